"""Stage 5: a validated rule document -> a `Plan`, with every problem found in one pass.

The compiler walks the steps in order with the scope of names each one sees, checks every
expression and template against it, and fills in the stable step ids (`steps[2].then[0]`) that
make side effects idempotent at run time. The rule's own keys (trigger, when, dedupe, tables,
policy and the like) are compiled here, its steps in `rules.compile_steps`.
"""

from __future__ import annotations

import hashlib
import json
import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wendu.rules import plan as p
from wendu.rules.catalog import (
    CHANNELS,
    EMPLOYEE_FIELDS,
    EVENT_TYPES,
    FAST_SCORERS,
    GROUP_PREFIX,
    PROFILE_FIELDS,
    ROLES,
    EventType,
    numeric_fields,
)
from wendu.rules.compile_steps import IDENTIFIER, SCORE_FIELDS, StepCompiler, event_obj
from wendu.rules.doc import RuleDoc
from wendu.rules.doc_problems import parse_doc
from wendu.rules.durations import DurationError, cron_problem, parse_duration, timezone_problem
from wendu.rules.errors import RuleError, RuleErrors, sorted_problems, suggest
from wendu.rules.expressions import (
    Obj,
    Scope,
    check_expression,
    check_template,
    fields_read,
    template_names,
)
from wendu.rules.freshness import max_age_problem, parse_max_age
from wendu.rules.loader import LoadedDoc, Loc, load
from wendu.rules.partial import from_stand_in, repaired_doc
from wendu.rules.policy import compile_policy
from wendu.rules.templates_catalog import (
    TemplateCatalog,
)

# The scorers the worker can run (scorers.registry); a test keeps the two in step, so a rule
# never compiles against a scorer that would fail at run time.
DEFAULT_SCORERS = frozenset(
    {"attrition", "burnout", "sentiment", "topics", "intent", "course_recommendation",
     "scorecard", "training_progress"}
)
# Names every expression may use; a bound name must not hide them.
RESERVED_NAMES = frozenset(
    {"event", "employee", "profile", "rule", "schedule", "recipient", "task", "why", "vars",
     "score"}
)
# A cooldown longer than this silences a rule for the people it matches, not one situation.
MAX_COOLDOWN = 366 * 86400
_JINJA_WORDS = {"and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "loop"}

EMPLOYEE = Obj("employee", dict.fromkeys(EMPLOYEE_FIELDS))
PROFILE = Obj("profile", dict.fromkeys(PROFILE_FIELDS))
RULE = Obj("rule", {
    "id": None, "version": None, "title": Obj("rule.title", {"zh": None, "en": None})
})
SCHEDULE = Obj("schedule", {"fire_time": None})


def fast_scores_obj(event_type: EventType) -> Obj:
    """`score`: the fast scorers that can read this event (text scorers need its text)."""
    usable = [name for name, reads in FAST_SCORERS.items()
              if reads != "text" or "text" in event_type.fields]
    fields = {name: Obj(f"score.{name}", SCORE_FIELDS) for name in usable}
    return Obj(f"score (fast scorers for {event_type.name})", fields)


@dataclass
class CompileResult:
    plan: p.Plan | None
    problems: list[RuleError] = field(default_factory=list)

    @property
    def errors(self) -> list[RuleError]:
        return [x for x in self.problems if x.is_error]


def check(
    loaded: LoadedDoc,
    *,
    templates: TemplateCatalog | None = None,
    scorers: Iterable[str] = DEFAULT_SCORERS,
    groups: Iterable[str] = (),
    event_types: Mapping[str, EventType] = EVENT_TYPES,
    channels: Mapping[str, str] = CHANNELS,
    roles: Mapping[str, str] = ROLES,
) -> CompileResult:
    """Compile a loaded rule; the plan (None if any error) and every problem, warnings too."""
    templates = templates if templates is not None else TemplateCatalog()
    compiler = _Compiler(loaded, templates, scorers, groups, event_types, channels, roles)
    try:
        doc = parse_doc(loaded)
    except RuleErrors as exc:
        # Shape errors first, then whatever the compiler finds in the rest (`rules.partial`).
        repaired = repaired_doc(loaded.data)
        if repaired is not None:
            compiler.plan(repaired)
        rest = [x for x in compiler.problems if not from_stand_in(x.message)]
        return CompileResult(None, sorted_problems(list(dict.fromkeys([*exc.problems, *rest]))))
    plan = compiler.plan(doc)
    problems = sorted_problems(compiler.problems)
    if any(x.is_error for x in problems):
        return CompileResult(None, problems)
    return CompileResult(plan, problems)


def compile(
    loaded: LoadedDoc,
    *,
    templates: TemplateCatalog | None = None,
    scorers: Iterable[str] = DEFAULT_SCORERS,
    groups: Iterable[str] = (),
    event_types: Mapping[str, EventType] = EVENT_TYPES,
    channels: Mapping[str, str] = CHANNELS,
    roles: Mapping[str, str] = ROLES,
) -> p.Plan:
    """The plan of a loaded rule; raise RuleErrors with every problem (warnings included)."""
    result = check(loaded, templates=templates, scorers=scorers, groups=groups,
                   event_types=event_types, channels=channels, roles=roles)
    if result.plan is None:
        raise RuleErrors(result.problems)
    return result.plan



def compile_text(text: str, path: str = "<rule>", **options: Any) -> p.Plan:
    return compile(load(text, path), **options)


def _without_positions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_positions(v) for k, v in node.items() if k != "at"}
    if isinstance(node, list):
        return [_without_positions(v) for v in node]
    return node


def plan_digest(plan: p.Plan) -> str:
    # Positions are left out: moving a file or adding a comment is not a new rule version.
    data = plan.model_dump(mode="json", by_alias=True, exclude={"digest", "source"})
    data = _without_positions(data)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Compiler(StepCompiler):
    def __init__(self, loaded: LoadedDoc, templates: TemplateCatalog, scorers: Iterable[str],
                 groups: Iterable[str], event_types: Mapping[str, EventType],
                 channels: Mapping[str, str], roles: Mapping[str, str]):
        self.loaded, self.templates, self.event_types = loaded, templates, event_types
        self.scorers, self.groups = sorted(scorers), sorted(groups)
        self.channels, self.roles = channels, roles
        self.problems: list[RuleError] = []
        # The fast scorers (`score.<name>`) any expression or template of the rule reads.
        self.fast_used: set[str] = set()
        self.tables: dict[str, dict[str, Any]] = {}

    # --- reporting ---------------------------------------------------------------------

    def error(self, loc: Loc, message: str, *, value: bool = True) -> None:
        self.problems.append(self.loaded.error(loc, message, value=value))

    def _item(self, loc: Loc, index: int) -> Loc:
        # `to: manager` was turned into a list; its only item is the scalar itself.
        item = (*loc, index)
        return item if item in self.loaded.value_positions else loc

    # --- the rule ------------------------------------------------------------------------

    def plan(self, doc: RuleDoc) -> p.Plan:
        trigger, scope = self.trigger(doc)
        scope = self.with_tables(doc, scope)
        when = [self.expr(self._item(("when",), i), src, scope) for i, src in enumerate(doc.when)]
        before = len(self.problems)
        dedupe = self.text(("dedupe",), doc.dedupe, scope)
        if len(self.problems) == before and "employee" not in template_names(doc.dedupe):
            self.problems.append(self.loaded.error(
                ("dedupe",), "the dedupe key does not use employee: the rule will fire once "
                "per key for all employees together", value=True, severity="warning"))
        steps, _ = self.steps(doc.steps, ("steps",), "steps", scope)
        plan = p.Plan(
            rule_id=doc.id, version=doc.version,
            title=p.LocalizedText(zh=doc.title.zh, en=doc.title.en),
            description=doc.description, owner=doc.owner, enabled=doc.enabled,
            trigger=trigger, when=when, dedupe=dedupe, cooldown_seconds=self.cooldown(doc),
            steps=steps, policy=self.policy(doc),
            tables=self.tables, fast_scores=sorted(self.fast_used & set(FAST_SCORERS)),
            max_age_seconds=self.max_age(doc),
        )
        holdout = self.holdout(doc)
        if holdout:
            plan = plan.model_copy(update={"holdout": holdout})
        impact = self.impact(doc)
        if impact is not None:
            plan = plan.model_copy(update={"impact": impact})
        return plan.model_copy(update={"digest": plan_digest(plan), "source": self.loaded.text})

    def trigger(self, doc: RuleDoc) -> tuple[p.EventTrigger | p.ScheduleTrigger, Scope]:
        base = {"employee": EMPLOYEE, "profile": PROFILE, "rule": RULE}
        if hasattr(doc.trigger, "event"):
            name = doc.trigger.event
            if name not in self.event_types:
                self.error(("trigger", "event"), f"unknown event type '{name}'"
                           + suggest(name, list(self.event_types), "event types"))
                scope = Scope({**base, "event": None})
            else:
                event_type = self.event_types[name]
                scope = Scope({**base, "event": event_obj(event_type),
                               "score": fast_scores_obj(event_type)})
            scope = scope.without("schedule", reason="only schedule rules have 'schedule'")
            return p.EventTrigger(event=name), scope
        trigger = doc.trigger
        for key, problem in (("schedule", cron_problem(trigger.schedule)),
                             ("timezone", timezone_problem(trigger.timezone))):
            if problem:
                self.error(("trigger", key), problem)
        scope = Scope({**base, "schedule": SCHEDULE}).without(
            "event", reason="a schedule rule has no triggering event; use schedule.fire_time"
        ).without("score", reason="fast scores are read at ingest, for an event; a schedule rule "
                  "scores in a `score` step")
        return p.ScheduleTrigger(cron=trigger.schedule, timezone=trigger.timezone), scope

    def max_age(self, doc: RuleDoc) -> int | None:
        if doc.max_age is None:
            return None
        if not hasattr(doc.trigger, "event"):
            self.error(("max_age",), "max_age applies to event rules only: a schedule rule has "
                       "no triggering event to be too old")
            return None
        problem = max_age_problem(doc.max_age)
        if problem:
            self.error(("max_age",), problem)
            return None
        return parse_max_age(doc.max_age) or 0  # off: 0, any age fires

    def impact(self, doc: RuleDoc) -> p.ImpactMetric | None:
        """`impact: {metric: <event type>.<field>, better: lower}`: a numeric catalog field."""
        if doc.impact is None:
            return None
        event, _, name = doc.impact.metric.rpartition(".")
        spec = self.event_types.get(event)
        if spec is None:
            self.error(("impact", "metric"), f"{event or doc.impact.metric!r} is not an event "
                       f"type; the metric is <event type>.<field>, e.g. "
                       "attendance.day_closed.overtime_hours")
            return None
        numeric = numeric_fields(spec)
        if name not in numeric:
            self.error(("impact", "metric"), f"{event} has no numeric field {name!r}; its "
                       f"numeric fields: {', '.join(numeric) or 'none'}")
            return None
        return p.ImpactMetric(event=event, field=name, better=doc.impact.better)

    def holdout(self, doc: RuleDoc) -> float:
        """`holdout: 10%` (or 0.1) as a share; at most half, so the rule still acts."""
        value = doc.holdout
        if value is None:
            return 0.0
        text = str(value).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.error(("holdout",), f"holdout {text!r} is not a share such as 10% or 0.1")
            return 0.0
        if not 0 <= share <= 0.5:
            self.error(("holdout",), f"holdout {text} is outside 0%..50%: a control group "
                       "larger than half leaves the rule acting on too few people")
            return 0.0
        return round(share, 6)

    def cooldown(self, doc: RuleDoc) -> int | None:
        if doc.cooldown is None:
            return None
        if not hasattr(doc.trigger, "event"):
            self.error(("cooldown",), "cooldown applies to event rules only: a schedule rule "
                       "fires at most once per scan and dedupe key; key it by a longer period "
                       "(e.g. schedule.fire_time | iso_week) to fire less often")
            return None
        try:
            seconds = parse_duration(doc.cooldown)
        except DurationError as exc:
            self.error(("cooldown",), str(exc))
            return None
        if seconds > MAX_COOLDOWN:
            self.error(("cooldown",), f"cooldown {doc.cooldown} is longer than a year: the rule "
                       "would stay silent for people it matches; shorten it or disable the rule")
            return None
        return seconds

    def policy(self, doc: RuleDoc) -> p.Policy | None:
        if doc.policy is None:
            return None
        policy, problems = compile_policy(doc.policy.quiet_hours, doc.policy.daily_cap)
        for key, message in problems:
            self.error(("policy", key), message)
        return policy

    # --- building blocks -----------------------------------------------------------------

    def expr(self, loc: Loc, src: str, scope: Scope) -> p.Expr:
        for problem in check_expression(src, scope):
            pos = self.loaded.expr_pos(loc, problem.line, problem.col)
            self.problems.append(self.loaded.error_at(pos, problem.message))
        if "score" in scope.names:
            self.fast_used |= fields_read(src, "score")
        return p.Expr(source=src)

    def text(self, loc: Loc, src: str, scope: Scope) -> p.Text:
        for problem in check_template(src, scope):
            pos = self.loaded.expr_pos(loc, problem.line, problem.col)
            self.problems.append(self.loaded.error_at(pos, problem.message))
        if "score" in scope.names:
            self.fast_used |= fields_read(src, "score", template=True)
        return p.Text(source=src)

    def with_tables(self, doc: RuleDoc, scope: Scope) -> Scope:
        """The rule's lookup tables, each a name every expression and template sees."""
        for name, table in doc.tables.items():
            if self.bind_name(("tables", name), name, what="a table name"):
                scope = scope.with_names(**{name: None})
                self.tables[name] = dict(table)
        return scope

    def duration(self, loc: Loc, text: str) -> int:
        try:
            return parse_duration(text)
        except DurationError as exc:
            self.error(loc, str(exc))
            return 0

    def role(self, loc: Loc, role: str) -> p.Recipient:
        if role.startswith(GROUP_PREFIX):
            group = role[len(GROUP_PREFIX):]
            if group not in self.groups:
                self.error(loc, f"unknown group '{group}'" + suggest(group, self.groups, "groups")
                           + " (groups are declared in _groups.yaml of the rule set)")
        elif role not in self.roles:
            choices = [*self.roles, f"{GROUP_PREFIX}<name>"]
            self.error(loc, f"unknown recipient '{role}'" + suggest(role, choices, "use one of"))
        return p.Recipient(role=role)

    def bind_name(self, loc: Loc, name: str, what: str = "'as'") -> bool:
        """Whether `name` may be bound; a bad name is reported and left out of the scope."""
        # `as: x` is reported at the value; a `set` name is itself a key.
        at_value = what == "'as'"
        if not IDENTIFIER.match(name) or keyword.iskeyword(name) or name in _JINJA_WORDS:
            self.error(loc, f"{what} must be a simple name (letters, digits, _), got '{name}'",
                       value=at_value)
            return False
        if name in RESERVED_NAMES:
            self.error(loc, f"'{name}' is a built-in name; choose another name for {what}",
                       value=at_value)
            return False
        return True

    def bound(self, scope: Scope, loc: Loc, name: str, shape: Any, what: str = "'as'") -> Scope:
        return scope.with_names(**{name: shape}) if self.bind_name(loc, name, what) else scope

    def template(self, loc: Loc, name: str, scope: Scope) -> str:
        if "score" in scope.names:
            self.fast_used |= self.templates.fields_read(name, "score")
        if name not in self.templates:
            self.error(loc, f"unknown template '{name}'"
                       + suggest(name, self.templates.names(), "templates")
                       + f" (templates live in {self.templates.path})")
            return name
        for problem in self.templates.check(name, scope):
            if problem.line == 0:
                self.error(loc, problem.message)
            else:
                self.problems.append(problem)
        return name
