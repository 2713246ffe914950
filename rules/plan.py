"""The compiled plan: the typed, validated form of one rule version.

A plan is the input of `RuleWorkflow`, so it sits in workflow history: a running workflow keeps
the rule version it started with, and replay sees exactly what the first run saw. Expressions
travel as source text; they were parsed and checked at compile time and are evaluated by an
activity, so the workflow stays free of I/O and of the template engine.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expr(_Model):
    """A checked Jinja2 expression (`when`, `if`, `set`, `match`, `record.value`)."""

    source: str


class Text(_Model):
    """A checked Jinja2 template string (task titles, dedupe keys)."""

    source: str


class Recipient(_Model):
    """`employee`, `manager`, `skip_manager`, `hrbp` or `group:<name>`, resolved at run time."""

    role: str


class EventTrigger(_Model):
    kind: Literal["event"] = "event"
    event: str


class ScheduleTrigger(_Model):
    kind: Literal["schedule"] = "schedule"
    cron: str
    timezone: str = "Asia/Shanghai"


Trigger = Annotated[EventTrigger | ScheduleTrigger, Field(discriminator="kind")]


class _Step(_Model):
    # A stable path such as "steps[2].then[0]": the key for idempotent side effects.
    id: str
    # Where the step was written, for messages at run time ("rules/x.yaml:14:7").
    at: str = ""


class ScoreStep(_Step):
    kind: Literal["score"] = "score"
    scorer: str
    bind: str
    # Evaluated when the step runs and given to the scorer as `args` (weights, a dimension).
    # Left out of dumps when empty, so rules without it keep their digest and history shape.
    args: dict[str, Expr] = Field(default={}, exclude_if=lambda v: not v)


class SetStep(_Step):
    kind: Literal["set"] = "set"
    values: dict[str, Expr]
    # Set when every value is a literal ("'https://...'", 0.5, [1, 2]): the workflow binds
    # them as they are, with no evaluation. Left out of dumps otherwise.
    literals: dict[str, Any] | None = Field(default=None, exclude_if=lambda v: v is None)


class TemplateLookup(_Model):
    """`template: {from: guides, key: score.intent.label}`: the template is the table's entry
    for the key's value; every entry was checked as a template at compile time."""

    table: str
    key: Expr
    choices: dict[str, str]


class NotifyStep(_Step):
    kind: Literal["notify"] = "notify"
    to: list[Recipient]
    channels: list[str]
    template: str
    urgent: bool = False
    # At most one message of this template per person per period ("day", "week", "month").
    once_per: str | None = Field(default=None, exclude_if=lambda v: v is None)
    # The template chosen at run time from one of the rule's tables (`template` is then "").
    template_from: TemplateLookup | None = Field(default=None, exclude_if=lambda v: v is None)
    # What recipients may mute or redirect (rules.categories); None: the template's.
    category: str | None = Field(default=None, exclude_if=lambda v: v is None)
    # Binds {"sent", "failed", "repeated"}: deliveries made, given up, and left out because
    # another firing made them this period (`once_per`).
    bind: str | None = Field(default=None, exclude_if=lambda v: v is None)


class DoneWhen(_Model):
    """The event (about the task's employee) that completes a task without anyone acting."""

    event: str
    match: Expr | None = None


class AssignTaskStep(_Step):
    kind: Literal["assign_task"] = "assign_task"
    assignee: Recipient
    # The title in Chinese, or in every language when the rule gives one text; `title_en`
    # when the rule words it for English readers too.
    title: Text
    title_en: Text | None = Field(default=None, exclude_if=lambda v: v is None)
    template: str
    due_seconds: int
    # Offsets before the due time at which the assignee is reminded.
    reminders_seconds: list[int] = []
    # Roles the task moves to, in order, each time its due time passes unanswered.
    escalate_to: list[Recipient] = []
    # Whether the rule waits for the task's outcome before its next step.
    wait: bool = True
    # Its messages go out at any hour (quiet hours do not hold them).
    urgent: bool = Field(default=False, exclude_if=lambda v: not v)
    done_when: DoneWhen | None = Field(default=None, exclude_if=lambda v: v is None)
    bind: str | None = None


class WaitStep(_Step):
    kind: Literal["wait"] = "wait"
    seconds: int


class RecordStep(_Step):
    kind: Literal["record"] = "record"
    metric: str
    value: Expr


class IfStep(_Step):
    kind: Literal["if"] = "if"
    condition: Expr
    then: list[Step]
    else_: list[Step] = Field(default=[], alias="else")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WaitForStep(_Step):
    kind: Literal["wait_for"] = "wait_for"
    event: str
    match: Expr | None = None
    timeout_seconds: int
    on_timeout: list[Step] = []
    bind: str | None = None


Step = Annotated[
    ScoreStep
    | SetStep
    | NotifyStep
    | AssignTaskStep
    | WaitStep
    | RecordStep
    | IfStep
    | WaitForStep,
    Field(discriminator="kind"),
]

IfStep.model_rebuild()
WaitForStep.model_rebuild()


class LocalizedText(_Model):
    zh: str = ""
    en: str = ""


class Policy(_Model):
    """A rule's own notification policy; None in a field means the worker's setting."""

    # "21:00-08:00" in the recipient's local time; "" means no quiet hours for this rule.
    quiet_hours: str | None = None
    # Non-urgent messages per recipient per local day; 0 means no cap for this rule.
    daily_cap: int | None = None



class ImpactMetric(_Model):
    """`impact:`: the numeric event field a rule exists to move, and which way is better."""

    event: str
    field: str
    better: Literal["lower", "higher"]
class Plan(_Model):
    rule_id: str
    version: int
    title: LocalizedText
    description: str = ""
    owner: str = ""
    enabled: bool = True
    trigger: Trigger
    when: list[Expr] = []
    dedupe: Text
    # `cooldown:` in seconds: after a firing for an employee, the rule's other keys fire
    # nothing for them for this long (wendu.cooldown). Left out of dumps when unset.
    cooldown_seconds: int | None = Field(default=None, exclude_if=lambda v: v is None)
    steps: list[Step]
    # Left out of dumps when unset, so rules without a policy keep their digest and history.
    policy: Policy | None = Field(default=None, exclude_if=lambda v: v is None)
    # The share of matched people held out as a control group (`holdout: 10%`); 0: none. Left
    # out of dumps when 0, so rules without one keep their digest.
    holdout: float = Field(default=0.0, ge=0, le=0.5, exclude_if=lambda v: not v)
    # The outcome the dashboard measures for this rule (`impact:`); None: the default for its
    # trigger (wendu.impact.METRICS). Left out of dumps when unset.
    impact: ImpactMetric | None = Field(default=None, exclude_if=lambda v: v is None)
    # Named lookup tables (`tables:`): every expression and template of the rule sees them.
    tables: dict[str, dict[str, Any]] = Field(default={}, exclude_if=lambda v: not v)
    # Fast scorers the rule reads as `score.<name>`; ingest scores the event with them before
    # matching, and the workflow gets the results in its context (it never scores again).
    fast_scores: list[str] = Field(default=[], exclude_if=lambda v: not v)
    # The rule's own freshness window (`max_age:`), in seconds; 0 means off (any age fires).
    # Unset, the site default applies (`wendu.rules.freshness`); left out of dumps then, so
    # rules that do not set it keep their digest and history.
    max_age_seconds: int | None = Field(default=None, exclude_if=lambda v: v is None)
    source: str = ""
    # sha256 of the canonical JSON of everything above but `source`: identifies the version.
    digest: str = ""


def iter_steps(steps: list[Step]):
    """Every step, depth first, including those inside if/else and on_timeout branches."""
    for step in steps:
        yield step
        if isinstance(step, IfStep):
            yield from iter_steps(step.then)
            yield from iter_steps(step.else_)
        elif isinstance(step, WaitForStep):
            yield from iter_steps(step.on_timeout)
