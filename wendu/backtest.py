"""Backtest: what a rule would have done on past events, sending nothing.

The stored events (or a JSONL file of them) are replayed in time order through the same
in-process path live ingest takes (`wendu.decide`): each employee's record and profile are
folded event by event, so a rule sees the profile as it was at that moment, then fast scores
and the match decide, batch by batch. A firing is counted once per dedupe key, as the workflow
id makes it in production. Its messages and tasks are read from the plan (`wendu.actions`), its
recipients from the employee records as they were then. Nothing is stored, nothing starts.

Several versions of a rule (the live one and a draft) are replayed side by side over one pass:
each sees the same events, profiles and scores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wendu.actions import Walk, planned_actions
from wendu.cooldown import CooldownBook
from wendu.decide import FastScorers, decide
from wendu.decisions import in_holdout
from wendu.ingest import _Ev, apply_employee_event, employee_dict
from wendu.rules.catalog import EVENT_TYPES, GROUP_PREFIX
from wendu.rules.matcher import RuleIndex
from wendu.rules.plan import AssignTaskStep, EventTrigger, NotifyStep, Plan
from wendu.store.models import Employee
from wendu.store.profile import derive, fold_state
from wendu.store.profile_values import as_datetime, tz

BATCH = 2000  # events scored and matched together (one predict_proba per scorer)
PREFERRED = "preferred"
INBOX = "inapp"


@dataclass
class Fired:
    workflow_id: str
    employee_id: str
    event_id: str
    occurred_at: datetime


@dataclass
class Tally:
    """What one version of a rule would have done over the window."""

    label: str
    rule_id: str
    version: int
    fired: list[Fired] = field(default_factory=list)
    repeats: int = 0  # matches whose dedupe key had fired already (no second workflow)
    held_out: int = 0  # first matches of people in the rule's holdout: nothing sent
    cooldown: int = 0  # matches the rule's cooldown held back (it fired for them recently)
    by_week: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    recipients: Counter[str] = field(default_factory=Counter)
    tasks: int = 0
    assignees: Counter[str] = field(default_factory=Counter)
    unresolved: Counter[str] = field(default_factory=Counter)  # roles that named nobody
    partial: Counter[str] = field(default_factory=Counter)  # why a firing's walk stopped early
    errors: Counter[str] = field(default_factory=Counter)  # conditions that could not evaluate
    stale: int = 0  # events of its trigger that arrived too old to fire it (its max_age)

    @property
    def people(self) -> int:
        return len({f.employee_id for f in self.fired})

    @property
    def messages(self) -> int:
        return sum(self.channels.values())

    def as_dict(self, top: int = 10) -> dict[str, Any]:
        return {
            "label": self.label, "rule_id": self.rule_id, "version": self.version,
            "fired": len(self.fired), "people": self.people, "repeats": self.repeats,
            "held_out": self.held_out,
            "cooldown": self.cooldown,
            "messages": self.messages, "channels": dict(self.channels.most_common()),
            "top_recipients": dict(self.recipients.most_common(top)),
            "tasks": self.tasks, "assignees": dict(self.assignees.most_common(top)),
            "by_week": dict(sorted(self.by_week.items())),
            "unresolved": dict(self.unresolved), "partial": dict(self.partial),
            "errors": dict(self.errors), "stale": self.stale,
        }


@dataclass
class Report:
    since: datetime | None
    until: datetime | None
    events: int = 0  # replayed in all (those before the window only build profiles)
    in_window: int = 0
    tallies: list[Tally] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # the people counted, by id

    def who(self, employee_id: str) -> str:
        name = self.names.get(employee_id)
        return f"{name} ({employee_id})" if name else employee_id

    def as_dict(self, top: int = 10) -> dict[str, Any]:
        versions = [t.as_dict(top) for t in self.tallies]
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "events": self.events, "in_window": self.in_window,
            "versions": versions,
            "names": {i: self.names[i] for v in versions
                      for i in (*v["top_recipients"], *v["assignees"]) if i in self.names},
        }


def backtest(
    events: Iterable[_Ev],
    versions: list[tuple[str, Plan]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    employees: dict[str, dict[str, Any]] | None = None,
    scorers: FastScorers | None = None,
    progress: Callable[[int], None] | None = None,
    max_age: int | None = None,
) -> Report:
    """Replay `events` (in time order) through each (label, plan) of `versions`.

    Events before `since` fold into the records and profiles only; events after `until` end
    the replay. `employees` are records known before the first event (e.g. the store's rows
    for people whose hire is older than the events kept). An event that arrived older than a
    version's freshness window (`max_age`: the site's, for versions that set none) fires
    nothing of it, as live ingest decided; a file's events, with no arrival time, count as
    arrived on time.
    """
    for label, plan in versions:
        if not isinstance(plan.trigger, EventTrigger):
            raise ValueError(f"{label}: {plan.rule_id} is a schedule rule; a backtest replays "
                             "events through event rules")
    replay = _Replay(versions, employees or {}, scorers, max_age)
    report = Report(since, until, tallies=[t for _, t in replay.tallies])
    pending: list[tuple[_Ev, dict[str, Any]]] = []
    for ev in events:
        if until is not None and ev.occurred_at > until:
            break
        report.events += 1
        ctx = replay.fold(ev, matching=since is None or ev.occurred_at >= since)
        if ctx is not None:
            report.in_window += 1
            pending.append((ev, ctx))
            if len(pending) >= BATCH:
                replay.decide(pending)
                pending = []
        if progress is not None and report.events % 1000 == 0:
            progress(1000)
    replay.decide(pending)
    if progress is not None:
        progress(report.events % 1000)
    counted = {i for t in report.tallies for i in (*t.recipients, *t.assignees)}
    report.names = {i: str(replay.known[i].get("name") or "") for i in counted
                    if i in replay.known}
    return report


class _Replay:
    def __init__(self, versions: list[tuple[str, Plan]], employees: dict[str, dict[str, Any]],
                 scorers: FastScorers | None, max_age: int | None) -> None:
        # One index over every version, each under its own id so their matches stay apart.
        self.plans = {f"{label}:{plan.rule_id}": plan for label, plan in versions}
        self.index = RuleIndex(
            [p.model_copy(update={"rule_id": key, "enabled": True})
             for key, p in self.plans.items()], max_age)
        self.tallies = [(key, Tally(label, p.rule_id, p.version))
                        for (label, p), key in zip(versions, self.plans, strict=True)]
        self.by_key = dict(self.tallies)
        self.types = {p.trigger.event for p in self.plans.values()
                      if isinstance(p.trigger, EventTrigger)}
        self.scorers = scorers
        self.records: dict[str, Employee] = {}  # created by HR events during the replay
        self.known = dict(employees)
        self.states: dict[str, dict[str, Any]] = {}
        self.seen: dict[str, set[str]] = {key: set() for key in self.plans}
        self.cooldowns = CooldownBook()  # what each version fired, by employee, for `cooldown`

    def employee(self, employee_id: str) -> dict[str, Any]:
        found = self.known.get(employee_id)
        return found if found is not None else employee_dict(None, employee_id)

    def fold(self, ev: _Ev, matching: bool) -> dict[str, Any] | None:
        """Fold one event; the rule context as of it when some version may match it."""
        eid = ev.employee_id
        if ev.type.startswith("employee."):
            if eid not in self.records and eid in self.known:
                self.records[eid] = _record(self.known[eid])
            apply_employee_event(self.records, ev)
            self.known[eid] = employee_dict(self.records[eid], eid)
        emp = self.employee(eid)
        envelope = ev.envelope()
        self.states[eid] = state = fold_state(self.states.get(eid, {}), emp,
                                              {**envelope, "data": ev.sent})
        if not matching or ev.type not in self.types:
            return None
        stale = self.index.stale_for(ev.type, ev.age())
        if stale and len(stale) == len(self.index.rules_for(ev.type)):
            self._count_stale(stale)
            return None
        return {"event": {**ev.full, **envelope}, "employee": emp,
                "profile": derive(state, emp, ev.occurred_at), "rule": {}, "vars": {}}

    def decide(self, pending: list[tuple[_Ev, dict[str, Any]]]) -> None:
        if not pending:
            return
        results = decide([(ev.type, ctx) for ev, ctx in pending], self.index, self.scorers,
                         [ev.age() for ev, _ in pending])
        for (ev, ctx), result in zip(pending, results, strict=True):
            self._count_stale(result.stale)
            for err in result.errors:
                self.by_key[err.rule_id].errors[err.message] += 1
            for match in result.matches:
                key = match.plan.rule_id
                tally, plan = self.by_key[key], self.plans[key]
                wid = f"rule/{plan.rule_id}/{match.dedupe_key}"
                if wid in self.seen[key]:
                    tally.repeats += 1
                    continue
                # Booked under the version's key, so versions side by side cool down apart.
                if self.cooldowns.take(match.plan, ev.employee_id, match.dedupe_key,
                                       ev.occurred_at) is not None:
                    tally.cooldown += 1
                    continue
                self.seen[key].add(wid)
                if in_holdout(plan.rule_id, ev.employee_id, plan.holdout):
                    tally.held_out += 1  # as live ingest: the key is settled, nothing is sent
                    continue
                tally.fired.append(Fired(wid, ev.employee_id, ev.id, ev.occurred_at))
                zone = tz((ctx.get("employee") or {}).get("timezone"))
                year, week, _ = ev.occurred_at.astimezone(zone).isocalendar()
                tally.by_week[f"{year}-W{week:02d}"] += 1
                self._actions(tally, plan, ev, ctx)

    def _count_stale(self, keys: list[str]) -> None:
        for key in keys:
            self.by_key[key].stale += 1

    def _actions(self, tally: Tally, plan: Plan, ev: _Ev, ctx: dict[str, Any]) -> None:
        walk = Walk()
        run_ctx = {**ctx, "rule": {"id": plan.rule_id, "version": plan.version,
                                   "title": plan.title.model_dump()},
                   "vars": dict(plan.tables)}
        for step in planned_actions(plan.steps, run_ctx, walk):
            if isinstance(step, NotifyStep):
                for role in [r.role for r in step.to]:
                    for person in self._people(ev.employee_id, role, tally):
                        tally.recipients[person] += 1
                        for channel in self._channels(step.channels, person):
                            tally.channels[channel] += 1
            elif isinstance(step, AssignTaskStep):
                people = self._people(ev.employee_id, step.assignee.role, tally)[:1]
                tally.tasks += 1
                tally.assignees.update(people)
        if walk.stopped:
            tally.partial[walk.stopped] += 1

    def _people(self, subject_id: str, role: str, tally: Tally) -> list[str]:
        """Who a role names for the subject, from the records as they are at this moment."""
        subject = self.known.get(subject_id)
        if role.startswith(GROUP_PREFIX):
            group = role[len(GROUP_PREFIX):]
            found = sorted(i for i, e in self.known.items()
                           if e.get("active") and group in (e.get("groups") or []))
        elif role == "employee":
            found = [subject_id] if subject is not None else []
        else:
            found = []
            boss = self.known.get(subject.get("manager_id") or "") if subject else None
            person = {"manager": boss,
                      "hrbp": self.known.get(subject.get("hrbp_id") or "") if subject else None,
                      "skip_manager": self.known.get(boss.get("manager_id") or "")
                      if boss else None}.get(role)
            if person is not None and person.get("active"):
                found = [person["id"]]
        if not found:
            tally.unresolved[role] += 1
        return found

    def _channels(self, requested: list[str], person_id: str) -> list[str]:
        channels = [c for c in requested if c != PREFERRED]
        if PREFERRED in requested or not requested:
            own = self.known.get(person_id, {}).get("preferred_channels") or []
            channels += [c for c in own if c not in channels] or [INBOX]
        return list(dict.fromkeys(channels))


def _record(emp: dict[str, Any]) -> Employee:
    """A detached employee record from a stored one, for HR events to change in memory."""
    from wendu.ingest import _column_value

    record = Employee(id=emp["id"], name=emp.get("name") or "", groups=[], active=True)
    for name, value in emp.items():
        if name != "id" and hasattr(Employee, name):
            setattr(record, name, _column_value(name, value))
    return record


def stored_event(row: Any) -> _Ev:
    """An event as the store keeps it (`wendu.store.models.Event`) -> what the fold reads."""
    sent = dict(row.data or {})
    full = dict.fromkeys(EVENT_TYPES[row.type].fields) | sent
    received = as_datetime(row.received_at) if row.received_at is not None else None
    return _Ev(row.id, row.type, row.employee_id, as_datetime(row.occurred_at), sent, full,
               received)


def in_time_order(events: Iterable[_Ev]) -> Iterator[_Ev]:
    """Events sorted by when they happened (ties by id), as the replay needs them."""
    yield from sorted(events, key=lambda e: (e.occurred_at, e.id))
