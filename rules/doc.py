"""Stage 2: the authoring model of a rule file and its JSON Schema.

These models check shape only (keys, types, step kinds); names, durations and templates are
checked by the compiler, which has the catalog. `rules.doc_problems` validates a loaded file
against them and maps pydantic's errors back to YAML positions, so an author never sees a
`loc` tuple.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
)

STEP_KINDS = ("score", "set", "if", "notify", "assign_task", "wait", "wait_for", "record")
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9\-_.]*$"


def _scalar_text(value: Any) -> Any:
    # YAML turns `value: 1` or `set: {flag: true}` into numbers and booleans; expressions are
    # text, so keep them as the Jinja literal the author meant.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _title(value: Any) -> Any:
    return {"zh": value, "en": value} if isinstance(value, str) else value


ExprText = Annotated[
    str,
    BeforeValidator(_scalar_text, json_schema_input_type=str | int | float | bool),
    Field(description="A Jinja2 expression, e.g. profile.overtime_hours_7d > 20"),
]
DurationText = Annotated[
    str,
    BeforeValidator(_scalar_text, json_schema_input_type=str),
    Field(description="A duration: 90s, 30m, 2h, 1d, 1w, 1d12h, or ISO-8601 P2D / PT4H"),
]
Roles = Annotated[
    list[str],
    BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
    Field(description="employee, manager, skip_manager, hrbp or group:<name>; one or a list"),
]
BindName = Annotated[
    str | None, Field(None, alias="as", description="Name under which later steps see the result")
]


class AuthoringModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TitleDoc(AuthoringModel):
    zh: str = ""
    en: str = ""


Title = Annotated[TitleDoc, BeforeValidator(_title, json_schema_input_type=str | TitleDoc)]


def _task_title(value: Any) -> Any:
    if isinstance(value, str | dict):
        return _title(value)
    shown = "a list" if isinstance(value, list) else repr(value)
    raise ValueError(f"one text, or {{zh: ..., en: ...}} for each language; got {shown}")


# A task's title: one text (the same for every reader) or one per language.
TaskTitle = Annotated[TitleDoc, BeforeValidator(_task_title, json_schema_input_type=str | TitleDoc)]


class EventTriggerDoc(AuthoringModel):
    event: str = Field(description="Event type from the catalog, e.g. attendance.day_closed")


class ScheduleTriggerDoc(AuthoringModel):
    schedule: str = Field(description='Five-field cron string, e.g. "0 9 * * MON"')
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the schedule")


def _trigger_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return "event_trigger" if isinstance(value, EventTriggerDoc) else "schedule_trigger"
    if isinstance(value, dict) and ("event" in value) != ("schedule" in value):
        return "event_trigger" if "event" in value else "schedule_trigger"
    return None


TriggerDoc = Annotated[
    Annotated[EventTriggerDoc, Tag("event_trigger")]
    | Annotated[ScheduleTriggerDoc, Tag("schedule_trigger")],
    Discriminator(_trigger_kind, custom_error_type="trigger_kind", custom_error_message="trigger"),
]


def _literal(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if value is None:
        return "none"
    return str(_scalar_text(value))


def _arg_text(value: Any) -> Any:
    # A mapping or list (weights by stage) is data, written as YAML: it becomes the Jinja
    # literal of the same value; a scalar stays an expression.
    return _literal(value) if isinstance(value, dict | list) else _scalar_text(value)


ArgText = Annotated[
    str,
    BeforeValidator(_arg_text, json_schema_input_type=str | int | float | bool | dict | list),
    Field(description="An expression, or a mapping/list of literal values (weights)"),
]


class ScoreStepDoc(AuthoringModel):
    score: str = Field(description="Scorer name, e.g. attrition or burnout")
    with_: dict[str, ArgText] = Field(
        {}, alias="with", description="Arguments the scorer gets as `args`, name: expression"
    )
    as_: BindName


class SetStepDoc(AuthoringModel):
    set: dict[str, ExprText] = Field(min_length=1, description="name: expression")


class TemplateFromDoc(AuthoringModel):
    from_: str = Field(alias="from", description="Name of one of the rule's tables")
    key: ExprText = Field(description="Expression whose value picks the table's entry")


class NotifyBody(AuthoringModel):
    to: Roles
    channels: list[str] = Field(["inapp"], description="Delivery channels, e.g. [inapp]")
    template: str | TemplateFromDoc = Field(
        description="Template folder name under templates/, or {from: <table>, key: <expr>} "
        "to pick it from one of the rule's tables"
    )
    urgent: bool = False
    once_per: Literal["day", "week", "month"] | None = Field(
        None,
        description="Send this template to a person at most once per day, week or month (in "
        "their time zone), whichever rule or firing sends it",
    )
    category: str | None = Field(
        None, description="What people may mute or read on a channel of their choice: care, "
        "guides, learning, performance, retention, other, or compliance (critical: cannot be "
        "muted); default: the template's", examples=["compliance"])
    as_: BindName


class NotifyStepDoc(AuthoringModel):
    notify: NotifyBody


class DoneWhenBody(AuthoringModel):
    event: str = Field(description="Event type that finishes the task, e.g. training.completed")
    match: ExprText | None = Field(
        None, description="Condition on that event (as `event`), e.g. event.course_id == ...")


class AssignTaskBody(AuthoringModel):
    to: str = Field(description="Role of the assignee")
    title: TaskTitle = Field(
        description="Task title, one text or {zh: ..., en: ...} (each reader sees theirs); "
        "may use {{ }} placeholders")
    template: str = "task_assigned"
    due: DurationText
    reminders: list[DurationText] = Field([], description="Reminders, each before the due time")
    escalate_to: Roles = []
    wait: bool = Field(True, description="Whether the rule waits for the task's outcome")
    urgent: bool = Field(
        False, description="Its messages (assignment, reminders, escalation) ignore quiet hours")
    done_when: DoneWhenBody | None = Field(
        None, description="An event about the same employee that completes the task by itself")
    as_: BindName


class AssignTaskStepDoc(AuthoringModel):
    assign_task: AssignTaskBody


class WaitStepDoc(AuthoringModel):
    wait: DurationText


class WaitForBody(AuthoringModel):
    event: str = Field(description="Event type to wait for")
    match: ExprText | None = None
    timeout: DurationText
    on_timeout: list[StepDoc] = []
    as_: BindName


class WaitForStepDoc(AuthoringModel):
    wait_for: WaitForBody


class RecordBody(AuthoringModel):
    metric: str = Field(description="Metric name, e.g. overtime_alerts")
    value: ExprText = "1"


class RecordStepDoc(AuthoringModel):
    record: RecordBody


class IfStepDoc(AuthoringModel):
    if_: ExprText = Field(alias="if")
    then: list[StepDoc] = Field(min_length=1)
    else_: list[StepDoc] = Field([], alias="else")


STEP_MODELS: dict[str, type[AuthoringModel]] = {
    "score": ScoreStepDoc,
    "set": SetStepDoc,
    "if": IfStepDoc,
    "notify": NotifyStepDoc,
    "assign_task": AssignTaskStepDoc,
    "wait": WaitStepDoc,
    "wait_for": WaitForStepDoc,
    "record": RecordStepDoc,
}
_KIND_OF_MODEL: dict[type, str] = {model: kind for kind, model in STEP_MODELS.items()}


def step_kind(step: Any) -> str | None:
    """The kind of a step: the one kind key it carries (None when it has none or several)."""
    if isinstance(step, BaseModel):
        return _KIND_OF_MODEL.get(type(step))
    if isinstance(step, dict):
        kinds = [kind for kind in STEP_KINDS if kind in step]
        if len(kinds) == 1:
            return kinds[0]
    return None


def _step_tag(step: Any) -> str | None:
    kind = step_kind(step)
    return f"{kind}_step" if kind else None


StepDoc = Annotated[
    Annotated[ScoreStepDoc, Tag("score_step")]
    | Annotated[SetStepDoc, Tag("set_step")]
    | Annotated[IfStepDoc, Tag("if_step")]
    | Annotated[NotifyStepDoc, Tag("notify_step")]
    | Annotated[AssignTaskStepDoc, Tag("assign_task_step")]
    | Annotated[WaitStepDoc, Tag("wait_step")]
    | Annotated[WaitForStepDoc, Tag("wait_for_step")]
    | Annotated[RecordStepDoc, Tag("record_step")],
    Discriminator(_step_tag, custom_error_type="step_kind", custom_error_message="step"),
]


def _off(value: Any) -> Any:
    # YAML reads a bare `off` as false; `true` has no meaning for either setting.
    if value is False:
        return "off"
    if value is True:
        raise ValueError("write a value or off, not true")
    return value


class PolicyDoc(AuthoringModel):
    quiet_hours: Annotated[str | None, BeforeValidator(_off)] = Field(
        None, description='Local quiet hours, e.g. "22:00-07:00", or off; default: the setting'
    )
    daily_cap: Annotated[int | str | None, BeforeValidator(_off)] = Field(
        None, description="Non-urgent messages per recipient per day, or off; default: the setting"
    )



class ImpactDoc(AuthoringModel):
    metric: str = Field(description="The outcome: a numeric field of an event type, "
                        "<event type>.<field>", examples=["attendance.day_closed.overtime_hours"])
    better: Literal["lower", "higher"] = Field(description="Which way is an improvement")
class RuleDoc(AuthoringModel):
    id: str = Field(pattern=RULE_ID_PATTERN, description="Unique id, e.g. overtime-care")
    version: int = Field(ge=1, description="Raise it with every change")
    title: Title
    description: str = ""
    owner: str = Field("", description="Who answers for this rule, e.g. hr-ops@example.com")
    enabled: bool = True
    trigger: TriggerDoc
    tables: dict[str, dict[str, str | int | float | bool]] = Field(
        {}, description="Named lookup tables, e.g. guides: {housing_fund_withdrawal: "
        "guide_housing_fund}; expressions see each as a mapping (`label in guides`)"
    )
    when: Annotated[
        list[ExprText],
        BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
        Field(description="Conditions that must all hold"),
    ] = []
    dedupe: str = Field(description="Template of the key that lets the rule fire once per key")
    cooldown: str | None = Field(
        None, description="Per employee: once the rule has fired for someone, it fires nothing "
        "more for them for this long (7d, 12h, P7D), whatever key a later match renders; such "
        "matches are reported as cooldown", examples=["7d"])
    max_age: Annotated[str | None, BeforeValidator(_off)] = Field(
        None, description="Event rules: how old an event may be when it arrives and still fire "
        "the rule (3d, 12h, P7D) or off; older events only update the profile. Default: the "
        "WENDU_MAX_EVENT_AGE setting (3d)")
    steps: list[StepDoc] = Field(min_length=1)
    policy: PolicyDoc | None = Field(
        None, description="Quiet hours and daily cap for this rule's messages"
    )
    holdout: str | float | None = Field(
        None, description="A control group: the share of the people the rule matches whose "
        "actions are held back (10%, 0.1; at most 50%), the same people every time, so the "
        "dashboard can compare acted-on with held-out outcomes. Recorded as held_out, never "
        "shown to them", examples=["10%"])
    impact: ImpactDoc | None = Field(
        None, description="The outcome the dashboard's impact compares before and after the "
        "rule acts (and against its holdout). Default: overtime hours for attendance rules, "
        "satisfaction for survey rules")


for _model in (WaitForBody, IfStepDoc, RuleDoc):
    _model.model_rebuild()


def rule_json_schema() -> dict[str, Any]:
    """JSON Schema of a rule file, for editors (yaml-language-server) and docs."""
    schema = RuleDoc.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "Wendu rule",
    }
