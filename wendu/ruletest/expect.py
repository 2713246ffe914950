"""What a rule did (firings, messages, tasks, waits, outcomes) against what the test expects.

Every difference is a `Failure` at the line and column of the expectation in the test file.
Tasks are read from the store and from their workflow's history, whose times are the
workflow clock's: a task's due time and escalation count from when its workflow opened it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType

from wendu.rules.durations import format_duration
from wendu.rules.loader import LoadedDoc, Loc
from wendu.ruletest.spec import ExpectDoc, MessageDoc, TaskDoc, Texts
from wendu.ruletest.timeline import duration
from wendu.ruletest.world import World
from wendu.store.models import Notification, Outcome
from wendu.workflows.io import CREATE_TASK, ESCALATE_TASK, TaskView


@dataclass
class Failure:
    path: str
    line: int
    col: int
    what: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.what} expected {self.expected}, " \
               f"got {self.got}"


@dataclass
class TaskFacts:
    first_assignee: str
    due: timedelta | None
    escalations: list[tuple[timedelta, str]] = field(default_factory=list)


def _show(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_one(v) for v in values) + "]"
    return repr(values) if isinstance(values, str) else _one(values)


def _one(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _clip(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")


class Checker:
    def __init__(self, world: World, rule_id: str, loaded: LoadedDoc) -> None:
        self.world = world
        self.rule_id = rule_id
        self.loaded = loaded
        self.failures: list[Failure] = []

    def fail(self, where: Loc, what: str, expected: Any, got: Any) -> None:
        line, col = self.loaded.pos(where)
        self.failures.append(Failure(self.loaded.path, line, col, what, expected, got))

    async def check(self, expect: ExpectDoc, where: Loc) -> list[Failure]:
        self.failures = []
        firings = self.world.firings(self.rule_id)
        if expect.fired is not None:
            self._fired(expect.fired, [f.dedupe_key for f in firings], (*where, "fired"))
        if expect.messages is not None:
            self._messages(expect.messages, self.world.notes(rule_id=self.rule_id),
                           (*where, "messages"))
        if expect.tasks is not None:
            await self._tasks(expect.tasks, (*where, "tasks"))
        if expect.waiting is not None:
            mine = {f.workflow_id for f in firings}
            mine |= {t.workflow_id for t in self.world.tasks(rule_id=self.rule_id)}
            got = sorted({w.event_type for w in self.world.waiting() if w.workflow_id in mine})
            if got != sorted(set(expect.waiting)):
                self.fail((*where, "waiting"), "waiting", _show(sorted(set(expect.waiting))),
                          _show(got))
        if expect.outcomes is not None:
            self._outcomes(expect.outcomes, (*where, "outcomes"))
        return self.failures

    def _fired(self, expected: bool | int | list[str], keys: list[str], where: Loc) -> None:
        if isinstance(expected, bool):
            if bool(keys) != expected:
                self.fail(where, "fired", "yes" if expected else "no",
                          f"{len(keys)} firing(s) {_show(keys)}")
        elif isinstance(expected, int):
            if len(keys) != expected:
                self.fail(where, "fired", f"{expected} time(s)", f"{len(keys)} {_show(keys)}")
        elif keys != expected:
            self.fail(where, "fired", _show(expected), _show(keys))

    def _texts(self, where: Loc, what: str, texts: Texts, haystack: str, present: bool) -> None:
        items = [texts] if isinstance(texts, str) else texts
        for i, text in enumerate(items):
            if (text in haystack) != present:
                at = where if isinstance(texts, str) else (*where, i)
                self.fail(at, what, _show(text), _clip(haystack))

    def _messages(self, expected: list[MessageDoc], sent: list[Notification],
                  where: Loc) -> None:
        left = list(sent)
        for i, exp in enumerate(expected):
            at = (*where, i)
            mine = [n for n in left if n.recipient_id == exp.to]
            exact = [n for n in mine if all(
                want is None or getattr(n, attr) == want
                for attr, want in (("template", exp.template), ("channel", exp.channel),
                                   ("locale", exp.locale)))]
            if not mine:
                self.fail((*at, "to"), f"message to {exp.to}", "one", "none" if not left else
                          "none (others: " + ", ".join(_note(n) for n in left) + ")")
                continue
            note = (exact or mine)[0]
            left.remove(note)
            for attr in ("template", "channel", "locale"):
                want = getattr(exp, attr)
                if want is not None and getattr(note, attr) != want:
                    self.fail((*at, attr), f"message to {exp.to} {attr}", _show(want),
                              _show(getattr(note, attr)))
            text = f"{note.subject}\n{note.body}"
            self._texts((*at, "contains"), f"message to {exp.to} contains", exp.contains, text,
                        True)
            self._texts((*at, "not_contains"), f"message to {exp.to} not_contains",
                        exp.not_contains, text, False)
        if left:
            self.fail(where, "messages", f"{len(expected)}",
                      f"{len(sent)}; not expected: " + ", ".join(_note(n) for n in left))

    async def _tasks(self, expected: list[TaskDoc], where: Loc) -> None:
        tasks = self.world.tasks(rule_id=self.rule_id)
        facts = {t.id: await task_facts(self.world, t.workflow_id) for t in tasks}
        left = list(tasks)
        for i, exp in enumerate(expected):
            at = (*where, i)
            mine = [t for t in left if (facts[t.id].first_assignee or t.assignee_id) == exp.to]
            if not mine:
                got = ", ".join(f"{facts[t.id].first_assignee}: {t.title}" for t in left)
                self.fail((*at, "to"), f"task for {exp.to}", "one", got or "none")
                continue
            task = mine[0]
            left.remove(task)
            fact = facts[task.id]
            who = f"task for {exp.to}"
            self._texts((*at, "title_contains"), f"{who} title_contains", exp.title_contains,
                        task.title, True)
            text = f"{task.title}\n{task.body}"
            self._texts((*at, "contains"), f"{who} contains", exp.contains, text, True)
            self._texts((*at, "not_contains"), f"{who} not_contains", exp.not_contains, text,
                        False)
            if exp.status is not None and task.status != exp.status:
                self.fail((*at, "status"), f"{who} status", exp.status, task.status)
            if exp.due is not None and fact.due != duration(exp.due):
                self.fail((*at, "due"), f"{who} due", exp.due, _dur(fact.due))
            escalated = fact.escalations[-1] if fact.escalations else None
            if exp.escalated_to is not None and (escalated or (None, None))[1] != exp.escalated_to:
                self.fail((*at, "escalated_to"), f"{who} escalated_to", exp.escalated_to,
                          escalated[1] if escalated else "not escalated")
            if exp.escalated_after is not None:
                first = fact.escalations[0][0] if fact.escalations else None
                if first != duration(exp.escalated_after):
                    self.fail((*at, "escalated_after"), f"{who} escalated_after",
                              exp.escalated_after, _dur(first) if first else "not escalated")
        if left:
            self.fail(where, "tasks", f"{len(expected)}",
                      f"{len(tasks)}; not expected: " + ", ".join(t.title for t in left))

    def _outcomes(self, expected: dict[str, float | list[float]], where: Loc) -> None:
        from sqlalchemy import select

        with self.world.factory() as session:
            rows = session.execute(select(Outcome.metric, Outcome.value)
                                   .where(Outcome.rule_id == self.rule_id)
                                   .order_by(Outcome.id)).all()
        got: dict[str, list[float]] = {}
        for metric, value in rows:
            got.setdefault(metric, []).append(value)
        for metric, want in expected.items():
            values = want if isinstance(want, list) else [want]
            have = got.get(metric, [])
            if [round(v, 6) for v in have] != [round(v, 6) for v in values]:
                self.fail((*where, metric), f"outcome {metric}", _show(values), _show(have))


def _note(n: Notification) -> str:
    return f"{n.recipient_id} {n.template} ({n.channel})"


def _dur(value: timedelta | None) -> str:
    return format_duration(round(value.total_seconds())) if value is not None else "none"


async def task_facts(world: World, workflow_id: str) -> TaskFacts:
    """Who a task went to first, when it was due, and when and to whom it was escalated,
    from its workflow's history (workflow time)."""
    converter = world.env.client.data_converter
    history = await world.env.client.get_workflow_handle(workflow_id).fetch_history()
    opened = None
    scheduled: dict[int, tuple[str, Any]] = {}
    facts = TaskFacts(first_assignee="", due=None)
    for event in history.events:
        when = event.event_time.ToDatetime().replace(tzinfo=UTC)
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            opened = when
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attrs.activity_type.name, when)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs = event.activity_task_completed_event_attributes
            name, at = scheduled.get(attrs.scheduled_event_id, ("", when))
            if name not in (CREATE_TASK, ESCALATE_TASK) or opened is None:
                continue
            view, = await converter.decode(attrs.result.payloads, [TaskView])
            if name == CREATE_TASK:
                facts.first_assignee = view.assignee_id
                facts.due = _minutes(_aware(view.due_at) - opened)
            elif view.escalation_level > len(facts.escalations):
                facts.escalations.append((_minutes(at - opened), view.assignee_id))
    return facts


def _minutes(value: timedelta) -> timedelta:
    """To the minute: the workflow reads its clock a few milliseconds after it starts."""
    return timedelta(minutes=round(value / timedelta(minutes=1)))


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
