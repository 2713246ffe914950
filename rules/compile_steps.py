"""Stage 5, the steps: each step kind checked against the scope of names it sees.

`StepCompiler` is the step half of the rule compiler (`rules.compiler._Compiler` inherits
it): it walks the steps in order, threading the scope each one sees (a `score ... as` or a
`set` adds a name for the steps after it), checks every expression, recipient, template and
duration, and gives each step its stable id (`steps[2].then[0]`). Reporting and the building
blocks (`error`, `expr`, `text`, `template`, `role`, `duration`, `bound`) are the compiler's.
"""

from __future__ import annotations

import re
from typing import Any

from wendu.rules import plan as p
from wendu.rules.catalog import ENVELOPE_FIELDS, EventType
from wendu.rules.categories import CATEGORIES, TASKS
from wendu.rules.doc import step_kind
from wendu.rules.errors import suggest
from wendu.rules.expressions import NOT_LITERAL, Obj, Scope, literal_value
from wendu.rules.loader import Loc
from wendu.rules.templates_catalog import (
    TASK_ESCALATED,
    TASK_REMINDER,
    notify_scope,
    task_message_scope,
    task_scope,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METRIC = re.compile(r"^[a-z][a-z0-9_.]*$")
SCORE_FIELDS = dict.fromkeys(("value", "label", "factors", "model_version"))
_TASK_OUTCOME_FIELDS = dict.fromkeys(("status", "actor_id", "comment", "escalation_level"))
_NOTIFY_RESULT_FIELDS = dict.fromkeys(("sent", "failed", "repeated"))


def event_obj(event_type: EventType) -> Obj:
    names = list(event_type.fields) + list(ENVELOPE_FIELDS)
    return Obj(f"event ({event_type.name})", dict.fromkeys(names))


class StepCompiler:
    """The steps of a rule; mixed into the compiler, which provides the building blocks."""

    # Provided by the compiler.
    loaded: Any
    scorers: list[str]
    channels: Any
    event_types: Any
    tables: dict[str, dict[str, Any]]
    error: Any
    expr: Any
    text: Any
    template: Any
    role: Any
    duration: Any
    bound: Any
    _item: Any

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
            if not IDENTIFIER.match(key):
                self.error((*loc, "with", key), f"a scorer argument is a simple name (letters, "
                           f"digits, _), got '{key}'", value=False)
            args[key] = self.expr((*loc, "with", key), src, scope)
        step = p.ScoreStep(scorer=doc.score, bind=bind, args=args, **common)
        return step, self.bound(scope, (*loc, "as"), bind, Obj(bind, SCORE_FIELDS))

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
        category = body.category
        if category is not None and (category not in CATEGORIES or category == TASKS):
            self.error((*at, "category"), f"unknown category '{category}'"
                       + suggest(category, [c for c in CATEGORIES if c != TASKS], "categories"))
            category = None
        step = p.NotifyStep(to=to, channels=list(body.channels), template=template,
                            urgent=body.urgent, once_per=body.once_per, bind=bind,
                            template_from=lookup, category=category, **common)
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
        title, title_en = self._task_title((*at, "title"), body.title, scope)
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
            assignee=assignee, title=title, title_en=title_en, template=template, due_seconds=due,
            reminders_seconds=reminders, escalate_to=escalate, wait=body.wait, bind=bind,
            urgent=body.urgent, done_when=done_when, **common,
        )
        return step, scope

    def _task_title(self, at: Loc, title: Any, scope: Scope) -> tuple[p.Text, p.Text | None]:
        """(the Chinese or only title, the English one if it differs): `title` is one text
        for everyone (the loader gives it as zh == en), or `{zh: ..., en: ...}`; a side left
        out reads as the other."""
        if title.zh == title.en:
            if not title.zh.strip():
                self.error(at, "the task needs a title")
            return self.text(at, title.zh, scope), None
        if not (title.zh.strip() or title.en.strip()):
            self.error(at, "the task needs a title: give zh, en or both, e.g. "
                       "{zh: 留任沟通, en: Retention conversation}")
        zh = self.text((*at, "zh"), title.zh, scope) if title.zh else None
        en = self.text((*at, "en"), title.en, scope) if title.en else None
        first = zh or en or p.Text(source="")
        return first, (en if en is not None and zh is not None and en != zh else None)

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
