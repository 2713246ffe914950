"""Ingestion on both backends: events stored once, profiles folded, each rule fired once per key."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from wendu.event_models import EventValidationError, parse_event_list
from wendu.ingest import firing_ids, ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import EXAMPLES_DIR, load_ruleset
from wendu.store.models import Employee, Event, Firing, Profile, Wait, WaitDelivery
from wendu.store.profile import fold
from wendu.workflows.io import RuleInput

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 1, 5)  # ISO week 2026-W02


@pytest.fixture(scope="module")
def index() -> RuleIndex:
    loaded = load_ruleset([EXAMPLES_DIR])
    assert loaded.ok, loaded.problems
    return RuleIndex(loaded.plans)


def hire(emp: str, **data) -> dict:
    return {
        "id": f"hire-{emp}",
        "type": "employee.hired",
        "employee_id": emp,
        "occurred_at": "2025-01-06T09:00:00+08:00",
        "data": {"name": f"Name {emp}", "hired_on": "2025-01-06", **data},
    }


def day(emp: str, d: date, overtime: float = 4.0, prefix: str = "att") -> dict:
    out = datetime.combine(d, datetime.min.time(), SH).replace(hour=22, minute=30)
    return {
        "id": f"{prefix}-{emp}-{d}",
        "type": "attendance.day_closed",
        "employee_id": emp,
        "occurred_at": out.isoformat(),
        "data": {
            "day": d.isoformat(),
            "clock_in": out.replace(hour=9).isoformat(),
            "clock_out": out.isoformat(),
            "overtime_hours": overtime,
        },
    }


def week(emp: str, start: date = MONDAY, days: int = 6, **kw) -> list[dict]:
    return [day(emp, start + timedelta(days=i), **kw) for i in range(days)]


def run(session_factory, events, index):
    with session_factory.begin() as session:
        return ingest(session, events, index)


def count(session_factory, model) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_events_are_stored_once_even_when_repeated(session_factory, index) -> None:
    batch = week("E1", days=2)
    out = run(session_factory, [*batch, batch[0]], index)
    assert [o.status for o in out] == ["accepted", "accepted", "duplicate"]
    again = run(session_factory, batch, index)
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    assert count(session_factory, Event) == 2
    with session_factory() as s:
        assert s.get(Profile, "E1").facts["overtime_hours_7d"] == 8.0  # not 12 or 16


def test_an_overtime_week_fires_once_per_employee_and_iso_week(session_factory, index) -> None:
    out = run(session_factory, [hire("M1"), hire("E1", manager_id="M1"), *week("E1")], index)
    fired = [(i, f) for i, o in enumerate(out) for f in o.fired]
    # Leaving at 22:30 every day: the fifth late departure fires the rule, nothing before it.
    assert [(i, f.rule_id, f.dedupe_key) for i, f in fired] == [(6, "overtime-care", "E1/2026-W02")]
    assert fired[0][1].workflow_id == "rule/overtime-care/E1/2026-W02"
    assert firing_ids(out) == [fired[0][1].firing_id]

    with session_factory() as s:
        row = s.scalars(select(Firing)).one()
        assert (row.status, row.event_id, row.employee_id) == ("pending", "att-E1-2026-01-09", "E1")
        rule_input = RuleInput.model_validate(row.context)
    assert rule_input.plan.rule_id == "overtime-care"
    assert rule_input.firing.matched == [
        "profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5"
    ]
    assert rule_input.firing.values == {
        "profile.overtime_hours_7d": 20.0,
        "profile.late_departures_7d": 5,
    }
    ctx = rule_input.context
    assert ctx["employee"]["manager_id"] == "M1" and ctx["employee"]["hired_on"] == "2025-01-06"
    assert ctx["event"]["day"] == "2026-01-09" and ctx["event"]["weekend"] is None
    assert ctx["profile"]["late_departures_7d"] == 5
    assert ctx["rule"]["id"] == "overtime-care" and ctx["vars"] == {}

    # Sunday of the same ISO week (another event id): matches again, but has fired already.
    sunday = run(session_factory, [day("E1", MONDAY + timedelta(days=6))], index)[0]
    assert sunday.fired == []
    assert [f.workflow_id for f in sunday.already_fired] == ["rule/overtime-care/E1/2026-W02"]
    # The next week is a new key.
    nxt = run(session_factory, week("E1", MONDAY + timedelta(days=7)), index)
    assert [f.dedupe_key for o in nxt for f in o.fired] == ["E1/2026-W03"]
    assert count(session_factory, Firing) == 2


def test_one_batch_fires_a_key_once(session_factory, index) -> None:
    out = run(session_factory, week("E1", days=7), index)
    assert [len(o.fired) for o in out] == [0, 0, 0, 0, 1, 0, 0]
    assert [len(o.already_fired) for o in out] == [0, 0, 0, 0, 0, 1, 1]


def test_employee_records_follow_the_hr_events(session_factory, index) -> None:
    run(
        session_factory,
        [hire("E1", manager_id="M1", timezone="Europe/Berlin", groups=["eng"])],
        index,
    )
    run(
        session_factory,
        [
            {
                "id": "u1",
                "type": "employee.updated",
                "employee_id": "E1",
                "occurred_at": "2025-06-01T09:00:00+00:00",
                "data": {"title": "Lead", "manager_id": "M2"},
            }
        ],
        index,
    )
    with session_factory() as s:
        e = s.get(Employee, "E1")
        assert (e.name, e.title, e.manager_id, e.timezone, e.groups, e.active) == (
            "Name E1",
            "Lead",
            "M2",
            "Europe/Berlin",
            ["eng"],
            True,
        )
        assert s.get(Profile, "E1").facts["manager_id"] == "M2"
    run(
        session_factory,
        [
            {
                "id": "l1",
                "type": "employee.left",
                "employee_id": "E1",
                "occurred_at": "2025-07-01T09:00:00+00:00",
                "data": {"left_on": "2025-07-31", "reason": "voluntary"},
            }
        ],
        index,
    )
    with session_factory() as s:
        e = s.get(Employee, "E1")
        assert (e.active, e.left_on) == (False, date(2025, 7, 31))


def test_a_batch_folds_like_one_event_at_a_time(session_factory, index) -> None:
    events = [
        hire("E1"),
        *week("E1", days=5),
        *week("E2", days=3),
        {
            "id": "s1",
            "type": "survey.response",
            "employee_id": "E1",
            "occurred_at": "2026-01-08T12:00:00+08:00",
            "data": {"survey_id": "pulse", "satisfaction": 3.5},
        },
    ]
    run(session_factory, events, index)
    employee = {
        "id": "E1",
        "hired_on": "2025-01-06",
        "timezone": "Asia/Shanghai",
        "locale": "zh-CN",
        "manager_id": None,
        "hometown_city": None,
    }
    facts: dict = {}
    state: dict = {}
    for e in parse_event_list(events):
        if e.employee_id == "E1":
            raw = {
                "id": e.id,
                "type": e.type,
                "employee_id": e.employee_id,
                "occurred_at": e.occurred_at.isoformat(),
                "data": e.data.model_dump(mode="json", exclude_unset=True),
            }
            facts, state = fold(facts, state, employee, raw)
    with session_factory() as s:
        stored = s.get(Profile, "E1")
        assert (stored.facts, stored.state) == (facts, state)
        assert s.get(Profile, "E2").facts["overtime_hours_7d"] == 12.0


def test_a_batch_stores_the_profile_that_posting_one_by_one_would(session_factory, index) -> None:
    # Facts are derived per event only where a rule of its type reads them, and once more for
    # the stored row: the row must not depend on that, nor on how the events were batched.
    def events(emp: str) -> list[dict]:
        at = "2026-01-08T09:00:00+08:00"
        return [
            hire(emp, manager_id="M1"),
            *week(emp, days=3),
            {
                "id": f"leave-{emp}",
                "type": "leave.taken",
                "employee_id": emp,
                "occurred_at": at,
                "data": {"day": "2026-01-08"},
            },
            *week(emp, MONDAY + timedelta(days=3), days=2, overtime=6.0),
            {
                "id": f"course-{emp}",
                "type": "training.completed",
                "employee_id": emp,
                "occurred_at": "2026-01-09T10:00:00+08:00",
                "data": {"course_id": "c1"},
            },
            {
                "id": f"fb-{emp}",
                "type": "feedback.submitted",
                "employee_id": emp,
                "occurred_at": "2026-01-10T10:00:00+08:00",
                "data": {"text": "busy week"},
            },
        ]

    assert not index.rules_for("leave.taken") and not index.rules_for("feedback.submitted")
    assert index.rules_for("attendance.day_closed")
    run(session_factory, events("E1"), index)
    for e in events("E2"):
        run(session_factory, [e], index)
    with session_factory() as s:
        batched, one_by_one = s.get(Profile, "E1"), s.get(Profile, "E2")
        assert batched.state == one_by_one.state
        assert batched.facts == {**one_by_one.facts, "employee_id": "E1"}
        assert batched.facts["leave_days_90d"] == 1.0
        assert batched.facts["feedback_count_30d"] == 1
        assert batched.facts["overtime_hours_7d"] == 24.0


def test_an_invalid_event_stores_nothing(session_factory, index) -> None:
    bad = day("E1", MONDAY)
    bad["data"]["overtime_hours"] = "lots"
    with pytest.raises(EventValidationError) as err:
        run(session_factory, [*week("E1"), bad], index)
    assert err.value.errors[0]["field"] == "[6].data.overtime_hours"
    assert count(session_factory, Event) == 0 and count(session_factory, Profile) == 0


def test_waiting_workflows_are_found_for_the_event(session_factory, index) -> None:
    with session_factory.begin() as s:
        s.add(
            Wait(
                workflow_id="rule/x/E1",
                step_id="steps[1]",
                event_type="survey.response",
                employee_id="E1",
            )
        )
    survey = {
        "id": "s1",
        "type": "survey.response",
        "employee_id": "E1",
        "occurred_at": "2026-01-08T12:00:00+08:00",
        "data": {"survey_id": "pulse", "satisfaction": 4},
    }
    other = {**survey, "id": "s2", "employee_id": "E2"}
    out = run(session_factory, [survey, other, day("E1", MONDAY)], index)
    assert [o.waiting for o in out] == [["rule/x/E1"], [], []]
    # The signal is owed durably: written with the event, pending until sent.
    with session_factory() as s:
        [owed] = s.scalars(select(WaitDelivery)).all()
    assert (owed.workflow_id, owed.event_id, owed.status) == ("rule/x/E1", "s1", "pending")
    assert owed.event["satisfaction"] == 4.0


def test_concurrent_batches_with_the_same_events_store_and_fire_once(
    session_factory, index
) -> None:
    batch = week("E1")
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(n: int) -> None:
        barrier.wait()
        results[n] = run(session_factory, batch, index)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = [o.status for r in results for o in r]
    assert statuses.count("accepted") == 6 and statuses.count("duplicate") == 6
    assert sum(len(o.fired) for r in results for o in r) == 1
    assert count(session_factory, Firing) == 1 and count(session_factory, Event) == 6


def test_a_batch_of_500_is_stored_in_a_handful_of_statements(session_factory, index) -> None:
    # Speed itself is measured by benchmarks/bench_ingest.py; here, the shape: never one
    # statement per event.
    def batch(prefix: str) -> list[dict]:
        return [
            day(f"E{n % 100}", MONDAY + timedelta(days=n // 100), prefix=prefix) for n in range(500)
        ]

    run(session_factory, batch("warm"), index)  # profiles exist, as in steady state
    events = parse_event_list(batch("real"))
    statements: list[str] = []
    engine = session_factory.kw["bind"]
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        out = run(session_factory, events, index)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert all(o.status == "accepted" for o in out)
    assert len(statements) <= 12, statements
