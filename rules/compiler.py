"""Stage 5: a validated rule document -> a `Plan`, with every problem found in one pass.

The compiler walks the steps in order with the scope of names each one sees, checks every
expression and template against it, and fills in the stable step ids (`steps[2].then[0]`) that
make side effects idempotent at run time.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wendu.rules import plan as p
from wendu.rules.catalog import (
    CHANNELS,
    EMPLOYEE_FIELDS,
    ENVELOPE_FIELDS,
    EVENT_TYPES,
    FAST_SCORERS,
    GROUP_PREFIX,
    PROFILE_FIELDS,
    ROLES,
    EventType,
)
from wendu.rules.doc import RuleDoc, parse_doc, step_kind
from wendu.rules.durations import DurationError, cron_problem, parse_duration, timezone_problem
from wendu.rules.errors import RuleError, RuleErrors, sorted_problems, suggest
from wendu.rules.expressions import (
    NOT_LITERAL,
    Obj,
    Scope,
    check_expression,
    check_template,
    fields_read,
    literal_value,
    template_names,
)
from wendu.rules.freshness import max_age_problem, parse_max_age
from wendu.rules.loader import LoadedDoc, Loc, load
from wendu.rules.partial import from_stand_in, repaired_doc
from wendu.rules.policy import compile_policy
from wendu.rules.templates_catalog import (
    TASK_ESCALATED,
    TASK_REMINDER,
    TemplateCatalog,
    notify_scope,
    task_message_scope,
    task_scope,
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
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METRIC = re.compile(r"^[a-z][a-z0-9_.]*$")

EMPLOYEE = Obj("employee", dict.fromkeys(EMPLOYEE_FIELDS))
PROFILE = Obj("profile", dict.fromkeys(PROFILE_FIELDS))
RULE = Obj("rule", {
    "id": None, "version": None, "title": Obj("rule.title", {"zh": None, "en": None})
})
SCHEDULE = Obj("schedule", {"fire_time": None})
_SCORE_FIELDS = dict.fromkeys(("value", "label", "factors", "model_version"))
_TASK_OUTCOME_FIELDS = dict.fromkeys(("status", "actor_id", "comment", "escalation_level"))
_NOTIFY_RESULT_FIELDS = dict.fromkeys(("sent", "failed", "repeated"))


def fast_scores_obj(event_type: EventType) -> Obj:
    """`score`: the fast scorers that can read this event (text scorers need its text)."""
    usable = [name for name, reads in FAST_SCORERS.items()
              if reads != "text" or "text" in event_type.fields]
    fields = {name: Obj(f"score.{name}", _SCORE_FIELDS) for name in usable}
    return Obj(f"score (fast scorers for {event_type.name})", fields)


def event_obj(event_type: EventType) -> Obj:
    names = list(event_type.fields) + list(ENVELOPE_FIELDS)
    return Obj(f"event ({event_type.name})", dict.fromkeys(names))


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


class _Compiler:
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
        if not _IDENTIFIER.match(name) or keyword.iskeyword(name) or name in _JINJA_WORDS:
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

    # --- steps ---------------------------------------------------------------------------

    def steps(self, docs: list[Any], loc: Loc, ident: str, scope: Scope) -> tuple[list, Scope]:
        steps = []
        for index, doc in enumerate(docs):
            step, scope = self.step(doc, (*loc, index), f"{ident}[{index}]", scope)
            steps.append(step)
        return steps, scope

    def step(self, doc: Any, loc: Loc, ident: str, scope: Scope) -> tuple[Any, Scope]:
        line, col = self.loaded.pos(loc)
        common = {"id": ident, "at": f"{self.loaded.path}:{line}:{col}"}
        kind = step_kind(doc)
        return getattr(self, f"_{kind}")(doc, loc, ident, scope, common)

    def _score(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        if doc.score not in self.scorers:
            self.error((*loc, "score"), f"unknown scorer '{doc.score}'"
                       + suggest(doc.score, self.scorers, "scorers"))
        bind = doc.as_ or doc.score
        args = {}
        for key, src in doc.with_.items():
            if not _IDENTIFIER.match(key):
                self.error((*loc, "with", key), f"a scorer argument is a simple name (letters, "
                           f"digits, _), got '{key}'", value=False)
            args[key] = self.expr((*loc, "with", key), src, scope)
        step = p.ScoreStep(scorer=doc.score, bind=bind, args=args, **common)
        return step, self.bound(scope, (*loc, "as"), bind, Obj(bind, _SCORE_FIELDS))

    def _set(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        # Each value sees the names bound before this step, not its sibling keys.
        values, after = {}, scope
        for key, src in doc.set.items():
            values[key] = self.expr((*loc, "set", key), src, scope)
            after = self.bound(after, (*loc, "set", key), key, None, what="a 'set' name")
        literals = {key: literal_value(e.source) for key, e in values.items()}
        known = None if any(v is NOT_LITERAL for v in literals.values()) else literals
        return p.SetStep(values=values, literals=known, **common), after

    def _if(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        condition = self.expr((*loc, "if"), doc.if_, scope)
        then, after_then = self.steps(doc.then, (*loc, "then"), f"{ident}.then", scope)
        else_, after_else = self.steps(doc.else_, (*loc, "else"), f"{ident}.else", scope)
        # A name bound in either branch is visible after the block (it may be unset at run time).
        merged = scope.with_names(**after_then.names).with_names(**after_else.names)
        return p.IfStep(condition=condition, then=then, else_=else_, **common), merged

    def _notify(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        body, at = doc.notify, (*loc, "notify")
        if not body.to:
            self.error((*at, "to"), "'to' needs at least one recipient")
        to = [self.role(self._item((*at, "to"), i), r) for i, r in enumerate(body.to)]
        if not body.channels:
            self.error((*at, "channels"), "'channels' needs at least one channel")
        for i, channel in enumerate(body.channels):
            if channel not in self.channels:
                self.error(self._item((*at, "channels"), i), f"unknown channel '{channel}'"
                           + suggest(channel, list(self.channels), "channels"))
        template, lookup = self.notify_template(at, body.template, scope)
        bind = body.as_
        if bind is not None:
            scope = self.bound(scope, (*at, "as"), bind, Obj(bind, _NOTIFY_RESULT_FIELDS))
        step = p.NotifyStep(to=to, channels=list(body.channels), template=template,
                            urgent=body.urgent, once_per=body.once_per, bind=bind,
                            template_from=lookup, **common)
        return step, scope

    def notify_template(self, at: Loc, doc: Any, scope: Scope) -> tuple[str, Any]:
        """The template a notify step names, or the lookup that picks it from a table."""
        if isinstance(doc, str):
            return self.template((*at, "template"), doc, notify_scope(scope)), None
        loc = (*at, "template")
        key = self.expr((*loc, "key"), doc.key, scope)
        table = self.tables.get(doc.from_)
        if table is None:
            self.error((*loc, "from"), f"unknown table '{doc.from_}'"
                       + suggest(doc.from_, sorted(self.tables), "tables of this rule"))
            return "", None
        choices: dict[str, str] = {}
        for entry, name in table.items():
            # Each entry is checked like a template named in place, at its line in `tables`.
            if not isinstance(name, str):
                self.error(("tables", doc.from_, entry), f"'{entry}' must name a template, "
                           f"got {name!r}")
                continue
            choices[entry] = self.template(("tables", doc.from_, entry), name, notify_scope(scope))
        if not table:
            self.error(("tables", doc.from_), f"table '{doc.from_}' is empty: it names no template")
        return "", p.TemplateLookup(table=doc.from_, key=key, choices=choices)

    def _assign_task(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        body, at = doc.assign_task, (*loc, "assign_task")
        assignee = self.role((*at, "to"), body.to)
        title = self.text((*at, "title"), body.title, scope)
        template = self.template((*at, "template"), body.template, task_scope(scope))
        due = self.duration((*at, "due"), body.due)
        reminders = []
        for i, text in enumerate(body.reminders):
            seconds = self.duration((*at, "reminders", i), text)
            if due and seconds >= due:
                self.error((*at, "reminders", i), f"reminder '{text}' is not shorter than the "
                           f"due time '{body.due}'; reminders are sent that long before it")
            reminders.append(seconds)
        escalate = [self.role(self._item((*at, "escalate_to"), i), r)
                    for i, r in enumerate(body.escalate_to)]
        for needed, name, key in ((reminders, TASK_REMINDER, "reminders"),
                                  (escalate, TASK_ESCALATED, "escalate_to")):
            if needed:
                self.template((*at, key), name, task_message_scope(scope))
        done_when = None
        if body.done_when is not None:
            event, match = self._awaited((*at, "done_when"), body.done_when, scope)
            done_when = p.DoneWhen(event=body.done_when.event, match=match)
        bind = body.as_
        if bind is not None:
            if not body.wait:
                self.error((*at, "as"), "'as' needs 'wait: true': the outcome is only known "
                           "when the rule waits for the task")
            scope = self.bound(scope, (*at, "as"), bind, Obj(bind, _TASK_OUTCOME_FIELDS))
        step = p.AssignTaskStep(
            assignee=assignee, title=title, template=template, due_seconds=due,
            reminders_seconds=reminders, escalate_to=escalate, wait=body.wait, bind=bind,
            urgent=body.urgent, done_when=done_when, **common,
        )
        return step, scope

    def _wait(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        return p.WaitStep(seconds=self.duration((*loc, "wait"), doc.wait), **common), scope

    def _awaited(self, at: Loc, body: Any, scope: Scope) -> tuple[Any, Any]:
        """(the event's shape, the compiled `match`) of an awaited event: `wait_for`,
        `done_when`."""
        awaited = self.event_types.get(body.event)
        if awaited is None:
            self.error((*at, "event"), f"unknown event type '{body.event}'"
                       + suggest(body.event, list(self.event_types), "event types"))
        shape = event_obj(awaited) if awaited else None
        match = None
        if body.match is not None:
            # Inside `match`, `event` is the awaited event, even in a schedule rule.
            match_scope = Scope({**scope.names, "event": shape},
                                {k: v for k, v in scope.unavailable.items() if k != "event"})
            match = self.expr((*at, "match"), body.match, match_scope)
        return shape, match

    def _wait_for(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        body, at = doc.wait_for, (*loc, "wait_for")
        shape, match = self._awaited(at, body, scope)
        timeout = self.duration((*at, "timeout"), body.timeout)
        on_timeout, after = self.steps(body.on_timeout, (*at, "on_timeout"),
                                       f"{ident}.on_timeout", scope)
        bind = body.as_
        if bind is not None:
            bound = Obj(f"{bind} ({body.event})", shape.fields) if shape else None
            after = self.bound(after, (*at, "as"), bind, bound)
        step = p.WaitForStep(event=body.event, match=match, timeout_seconds=timeout,
                             on_timeout=on_timeout, bind=bind, **common)
        return step, after

    def _record(self, doc: Any, loc: Loc, ident: str, scope: Scope, common: dict) -> Any:
        body, at = doc.record, (*loc, "record")
        if not _METRIC.match(body.metric):
            self.error((*at, "metric"), f"a metric name uses lowercase letters, digits, '_' and "
                       f"'.', starting with a letter; got '{body.metric}'")
        value = self.expr((*at, "value"), body.value, scope)
        return p.RecordStep(metric=body.metric, value=value, **common), scope
