"""Ingestion: a batch of validated events -> stored events, employees, profiles and firings.

Everything happens in the caller's transaction, so a batch is stored whole or not at all.
Whether a rule fires is decided here, batch by batch (`wendu.decide`: fast scores, then the
match). The workflow starts and the signals to waiting workflows happen after the commit, in
the API's background starter (`wendu.starter`, `wendu.firing`): a firing row is written
`pending` first and only marked `started` once Temporal has it, so a crash between the two
loses nothing (the reconciler starts it again).

The work is batch-shaped: one INSERT for the events (which also settles duplicates, even
against a concurrent request), one SELECT each for employees, profile states, stored firings
and waits, one UPDATE for the profiles, whatever the batch size. Per event there is only the
in-memory fold and, for event types some enabled rule triggers on, the facts as of that event
and the in-process match; every other profile's facts are derived once, for its row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import JSON, Date, DateTime, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from wendu.cooldown import Cooled, hold_back
from wendu.decide import FastScorers, decide
from wendu.decisions import create_firings
from wendu.event_models import parse_event_list
from wendu.firing import FiredRule
from wendu.rules.catalog import EMPLOYEE_FIELDS, EVENT_TYPES
from wendu.sqlbatch import chunks, dialect_insert, sqlite_insert_new
from wendu.store.models import Employee, Event, Wait, WaitDelivery, utcnow
from wendu.store.profile import derive, fold_state
from wendu.store.profile_rows import load_states, write_profiles

log = logging.getLogger(__name__)


@dataclass
class EventOutcome:
    id: str
    status: Literal["accepted", "duplicate"]
    fired: list[FiredRule] = field(default_factory=list)
    already_fired: list[FiredRule] = field(default_factory=list)
    # Matches the rule's cooldown held back: it fired for this employee recently (wendu.cooldown).
    cooldown: list[Cooled] = field(default_factory=list)
    # Workflows waiting (`wait_for`) for this event; signalled after the commit.
    waiting: list[str] = field(default_factory=list)
    # The event as rules and waiting workflows see it (catalog fields, envelope, JSON values).
    event: dict[str, Any] | None = None
    # Rules whose condition could not be evaluated for this event (logged, not fatal).
    errors: list[str] = field(default_factory=list)
    # Rules this event arrived too old to fire (`wendu.rules.freshness`); it still folded.
    stale: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        status = self.status
        if status == "accepted" and self.stale and not (self.fired or self.already_fired):
            status = "stale"  # stored and folded, but too old for every rule it could fire
        return {
            "id": self.id,
            "status": status,
            "fired": [f.public() for f in self.fired],
            "already_fired": [f.public() for f in self.already_fired],
            "cooldown": [c.public() for c in self.cooldown],
            "stale": list(self.stale),
        }


@dataclass
class _Ev:
    id: str
    type: str
    employee_id: str
    occurred_at: datetime
    sent: dict[str, Any]  # the data fields the producer sent (stored as is)
    full: dict[str, Any]  # every catalog field, None where not sent (what rules see)
    received_at: datetime | None = None  # when it arrived; None: on time (a file's events)

    def age(self) -> float | None:
        """Seconds from when it happened to when it arrived (what freshness windows read)."""
        if self.received_at is None:
            return None
        return (self.received_at - self.occurred_at).total_seconds()

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "employee_id": self.employee_id,
            "occurred_at": self.occurred_at.isoformat(),
        }


def ingest(
    session: Session, events: Sequence[Any], index: Any, scorers: FastScorers | None = None,
    *, now: datetime | None = None,
) -> list[EventOutcome]:
    """Store a batch of validated events and fire the rules they match; the caller commits.

    `events` are validated events (`wendu.event_models`) or plain dicts, validated here
    (raising `EventValidationError`); `index` is a `RuleIndex` of the enabled rules;
    `scorers` the fast scorers rules may read in `when` (the process default when None);
    `now` when the batch arrived (the clock when None): an event older than a rule's
    freshness window then fires nothing of it (`wendu.rules.freshness`).
    """
    if any(isinstance(e, Mapping) for e in events):
        events = parse_event_list(events)  # raw dicts: validated against the catalog first
    now = now or utcnow()
    evs = [_normalize(e, now) for e in events]
    outcomes = [EventOutcome(e.id, "duplicate") for e in evs]
    first: dict[str, int] = {}
    for i, e in enumerate(evs):
        first.setdefault(e.id, i)
    inserted = _insert_events(session, [evs[i] for i in first.values()])
    accepted = [i for i in first.values() if evs[i].id in inserted]
    if not accepted:
        return outcomes

    emp_ids = sorted({evs[i].employee_id for i in accepted})
    # Only employees an HR event changes are loaded as ORM objects (and locked); the rest are
    # read as plain rows: rules see them as dicts anyway.
    hr_ids = sorted({evs[i].employee_id for i in accepted if evs[i].type.startswith("employee.")})
    employees = _load_employees(session, hr_ids, lock=True)
    emp_dicts = _load_employee_dicts(session, sorted(set(emp_ids) - set(hr_ids)))
    emp_dicts.update((eid, employee_dict(emp, eid)) for eid, emp in employees.items())
    states = load_states(session, emp_ids)
    facts: dict[str, dict[str, Any] | None] = {}  # None: not derived since the last fold
    # Event types some enabled rule triggers on: only their events need facts as of the event.
    read_types = {t for t in {e.type for e in evs} if index.rules_for(t)}
    positions: list[int] = []
    contexts: list[tuple[str, dict[str, Any]]] = []
    ages: list[float | None] = []
    stales: list[list[str]] = []

    for i in accepted:
        e, out = evs[i], outcomes[i]
        out.status = "accepted"
        eid = e.employee_id
        if e.type.startswith("employee."):
            hired = apply_employee_event(employees, e)
            if hired is not None:
                session.add(hired)
            emp_dicts[eid] = employee_dict(employees.get(eid), eid)  # earlier events keep theirs
        emp = emp_dicts.get(eid)
        if emp is None:
            emp = emp_dicts[eid] = employee_dict(None, eid)
        envelope = e.envelope()
        states[eid] = state = fold_state(states[eid], emp, {**envelope, "data": e.sent})
        out.event = {**e.full, **envelope}
        if e.type in read_types:
            out.stale = index.stale_for(e.type, e.age())
        if e.type not in read_types or len(out.stale) == len(index.rules_for(e.type)):
            facts[eid] = None  # no rule reads this event's profile: derived once, for the row
            continue
        # Facts as of this event (ARCHITECTURE decision 9), for the rules that match on it.
        profile = derive(state, emp, e.occurred_at)
        # The row keeps the facts as of the latest event: an event older than the latest one
        # (late, or out of order in the batch) leaves the row to be derived once, below.
        facts[eid] = profile if profile["as_of"] == state.get("last_event_at") else None
        ctx = {"event": out.event, "employee": emp, "profile": profile, "rule": {}, "vars": {}}
        positions.append(i)
        contexts.append((e.type, ctx))
        ages.append(e.age())
        stales.append(out.stale)

    # Each profile is folded as of its event above; the whole batch is scored and matched here.
    decided = decide(contexts, index, scorers, ages, stales)
    candidates: list[tuple[int, Any, dict[str, Any]]] = []
    for i, result, (_, ctx) in zip(positions, decided, contexts, strict=True):
        out = outcomes[i]
        for err in result.errors:
            log.warning("event %s: rule not evaluated: %s", evs[i].id, err)
            out.errors.append(str(err))
        for match in result.matches:
            candidates.append((i, match, ctx))

    session.flush()  # employee rows
    for eid, state in states.items():
        if facts[eid] is None:
            facts[eid] = derive(state, emp_dicts[eid])
    write_profiles(session, states, facts)
    candidates, cooled = hold_back(session, evs, outcomes, candidates)  # the rules' cooldowns
    create_firings(session, evs, outcomes, candidates, cooled)  # and the decision log
    _find_waits(session, [evs[i] for i in accepted], {evs[i].id: outcomes[i] for i in accepted})
    return outcomes


# --- events --------------------------------------------------------------------------------


def _normalize(ev: Any, received_at: datetime | None = None) -> _Ev:
    data = ev.data
    if isinstance(data, BaseModel):
        sent = data.model_dump(mode="json", exclude_unset=True)
    else:
        sent = _jsonable(dict(data or {}))
    # Optional catalog fields default to None, so unsent ones are simply None for rules.
    full = dict.fromkeys(EVENT_TYPES[ev.type].fields) | sent
    return _Ev(str(ev.id), str(ev.type), str(ev.employee_id), ev.occurred_at, sent, full,
               received_at)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _insert_events(session: Session, evs: list[_Ev]) -> set[str]:
    """Insert the events; returns the ids actually inserted (the rest existed already).

    INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id: duplicates settle in the database,
    even against a concurrent request."""
    if session.get_bind().dialect.name == "sqlite":
        # At the driver: SQLAlchemy's multi-row VALUES cost as much as the insert itself.
        return {row[0] for row in sqlite_insert_new(session, _EVENTS, _EVENT_COLUMNS, [
            (e.id, e.type, e.employee_id, e.occurred_at, e.received_at, e.sent) for e in evs
        ], ["id"], "id")}
    rows = [
        {
            "e_id": e.id,
            "e_type": e.type,
            "e_employee_id": e.employee_id,
            "e_occurred_at": e.occurred_at,
            "e_received_at": e.received_at,
            "e_data": e.sent,
        }
        for e in evs
    ]
    conn = session.connection()
    stmt = _events_insert(conn.dialect.name)
    inserted: set[str] = set()
    for chunk in chunks(rows):
        params = {name: [row[name] for row in chunk] for name in chunk[0]}
        inserted.update(conn.execute(stmt, params).scalars())
    return inserted


_EVENTS = Event.__table__
_EVENT_COLUMNS = ("id", "type", "employee_id", "occurred_at", "received_at", "data")


@cache
def _events_insert(dialect: str) -> Any:
    """PostgreSQL's: one array per column, unnested. A multi-row VALUES with RETURNING (what
    SQLAlchemy makes of it here) is built row by row in Python and cost twice the plain
    insert."""
    if dialect != "postgresql":
        raise RuntimeError(f"unsupported database: {dialect}")
    cols = _EVENT_COLUMNS
    arrays = (
        func.unnest(*[bindparam(f"e_{c}", type_=ARRAY(_EVENTS.c[c].type)) for c in cols])
        .table_valued(*cols)
        .render_derived(name="batch")
    )
    stmt = postgresql.insert(_EVENTS).from_select(cols, select(*arrays.c))
    return stmt.on_conflict_do_nothing(index_elements=["id"]).returning(_EVENTS.c.id)


# --- employees and profiles ----------------------------------------------------------------


def _load_employees(session: Session, ids: list[str], *, lock: bool) -> dict[str, Employee]:
    found: dict[str, Employee] = {}
    for chunk in chunks(ids):
        q = select(Employee).where(Employee.id.in_(chunk)).order_by(Employee.id)
        found.update((e.id, e) for e in session.scalars(q.with_for_update() if lock else q))
    return found


_EMPLOYEES = Employee.__table__
_EMPLOYEE_COLUMNS = [_EMPLOYEES.c[name] for name in EMPLOYEE_FIELDS]
# Dates become ISO strings (as `employee_dict` makes them); every other column is JSON already.
_CONVERTED = [c.name for c in _EMPLOYEE_COLUMNS if isinstance(c.type, Date | DateTime | JSON)]


def _load_employee_dicts(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The employee records as rules see them, read as rows (no ORM objects to build)."""
    names = list(EMPLOYEE_FIELDS)
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(ids):
        q = select(*_EMPLOYEE_COLUMNS).where(_EMPLOYEES.c.id.in_(chunk))
        for row in session.execute(q):
            emp = dict(zip(names, row, strict=True))
            for name in _CONVERTED:
                emp[name] = _jsonable(emp[name])
            found[emp["id"]] = emp
    return found


def employee_dict(emp: Employee | None, employee_id: str) -> dict[str, Any]:
    if emp is None:
        # Events may arrive before the HRIS announces the hire: rules still see every name.
        out: dict[str, Any] = {name: None for name in EMPLOYEE_FIELDS}
        out.update(id=employee_id, active=True, groups=[], locale="zh-CN", timezone="Asia/Shanghai")
        return out
    return {name: _jsonable(getattr(emp, name)) for name in EMPLOYEE_FIELDS}


def apply_employee_event(employees: dict[str, Employee], e: _Ev) -> Employee | None:
    """Apply an HR event to the employee records; returns the record it created, if any
    (ingest adds it to the session; a backtest keeps its records in memory)."""
    emp = employees.get(e.employee_id)
    created = None
    if emp is None:
        emp = created = Employee(id=e.employee_id, name="", groups=[], active=True)
        employees[e.employee_id] = emp
    for name, value in e.sent.items():
        if name in EMPLOYEE_FIELDS and name != "id":
            setattr(emp, name, _column_value(name, value))
    if e.type == "employee.hired":
        emp.active, emp.left_on = True, None
    elif e.type == "employee.left":
        emp.active = False
    if emp.locale is None:
        emp.locale = "zh-CN"
    if emp.timezone is None:
        emp.timezone = "Asia/Shanghai"
    return created


def _column_value(name: str, value: Any) -> Any:
    if value is not None and EMPLOYEE_FIELDS[name].type is date:
        return date.fromisoformat(value)
    if name == "groups":
        return list(value or [])
    return value


# --- firings and waits ---------------------------------------------------------------------


def _find_waits(session: Session, evs: list[_Ev], outcomes: dict[str, EventOutcome]) -> None:
    types = sorted({e.type for e in evs})
    by_key: dict[tuple[str, str], list[str]] = {}
    for chunk in chunks(sorted({e.employee_id for e in evs})):
        q = select(Wait.workflow_id, Wait.event_type, Wait.employee_id).where(
            Wait.event_type.in_(types), Wait.employee_id.in_(chunk)
        )
        for wid, etype, emp in session.execute(q):
            by_key.setdefault((etype, emp), []).append(wid)
    rows = []
    for e in evs:
        out = outcomes[e.id]
        out.waiting = sorted(set(by_key.get((e.type, e.employee_id), [])))
        rows += [{"workflow_id": w, "event_id": e.id, "event": out.event} for w in out.waiting]
    if rows:
        # In the event's transaction: the signal is owed even if Temporal is away right now.
        stmt = dialect_insert(session, WaitDelivery).values(rows)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["workflow_id", "event_id"]))


def firing_ids(outcomes: Iterable[EventOutcome]) -> list[int]:
    return [f.firing_id for o in outcomes for f in o.fired if f.firing_id is not None]
