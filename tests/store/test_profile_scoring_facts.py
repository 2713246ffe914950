"""The profile facts the tabular scorers read: employment facts, manager changes, weekly
overtime against the own baseline, the streak of heavy weeks and leave taken."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from wendu.scorers.features import company_columns
from wendu.scorers.synth import generate
from wendu.store.profile import fold

EMP = {
    "id": "E1",
    "timezone": "Asia/Shanghai",
    "hired_on": "2024-03-04",
    "locale": "en",
    "manager_id": "M1",
}
START = date(2026, 1, 5)  # a Monday


def at(day: date, hour: int = 10) -> str:
    return datetime(day.year, day.month, day.day, hour).isoformat() + "+08:00"


def attendance(day: date, overtime: float) -> dict:
    return {
        "id": f"a-{day}",
        "type": "attendance.day_closed",
        "employee_id": "E1",
        "occurred_at": at(day, 22),
        "data": {
            "day": day.isoformat(),
            "clock_in": f"{day}T09:00:00+08:00",
            "clock_out": f"{day}T19:00:00+08:00",
            "overtime_hours": overtime,
        },
    }


def employee(etype: str, day: date, **data) -> dict:
    return {
        "id": f"{etype}-{day}-{sorted(data)}",
        "type": etype,
        "employee_id": "E1",
        "occurred_at": at(day),
        "data": data,
    }


def leave(day: date, days: float | None = None, reported: date | None = None) -> dict:
    data = {"day": day.isoformat(), **({} if days is None else {"days": days})}
    return {
        "id": f"l-{day}-{days}",
        "type": "leave.taken",
        "employee_id": "E1",
        "occurred_at": at(reported or day, 9),
        "data": data,
    }


def fold_all(events: list[dict]) -> tuple[dict, dict]:
    facts: dict = {}
    state: dict = {}
    for e in events:
        facts, state = fold(facts, state, EMP, e)
    return facts, state


def weeks_of(hours_per_week: list[float], start: date = START) -> list[dict]:
    """One attendance event per day, each week's hours spread evenly over its 7 days."""
    return [
        attendance(start + timedelta(days=7 * w + d), h / 7)
        for w, h in enumerate(hours_per_week)
        for d in range(7)
    ]


# --- pay, commute, level, promotion ------------------------------------------------------


def test_employee_events_give_pay_ratio_commute_level_and_promotion_but_not_pay() -> None:
    facts, state = fold_all(
        [
            employee(
                "employee.hired",
                START,
                name="Li",
                hired_on="2026-01-05",
                monthly_pay=12000,
                pay_band_median=10000,
                commute_km=23.5,
                level=3,
                last_promoted_on="2025-07-01",
            )
        ]
    )
    assert facts["pay_ratio"] == 1.2
    assert (facts["commute_km"], facts["level"]) == (23.5, 3)
    assert facts["last_promoted_on"] == "2025-07-01"
    # Managers see their reports' facts in the console: the pay itself is not one of them.
    assert "monthly_pay" not in facts and "pay_band_median" not in facts
    assert 12000 not in facts.values()
    assert json.loads(json.dumps([facts, state])) == [facts, state]


def test_an_update_changes_only_what_it_sends_and_a_late_older_one_changes_nothing() -> None:
    hired = employee(
        "employee.hired",
        START,
        name="Li",
        hired_on="2026-01-05",
        monthly_pay=9000,
        pay_band_median=10000,
        commute_km=5.0,
    )
    raise_ = employee(
        "employee.updated",
        START + timedelta(days=90),
        monthly_pay=11000,
        last_promoted_on=date(2026, 4, 1),
    )
    stale = employee(
        "employee.updated", START + timedelta(days=30), monthly_pay=9500, commute_km=8.0
    )
    facts, _ = fold_all([hired, raise_, stale])
    assert facts["pay_ratio"] == 1.1  # the raise stands, the older report arrived too late
    assert facts["commute_km"] == 8.0  # nothing newer said otherwise
    assert facts["last_promoted_on"] == "2026-04-01"
    assert fold_all([hired, stale, raise_])[0] == facts


def test_without_employee_events_the_employment_facts_are_unknown() -> None:
    facts, _ = fold_all(weeks_of([5.0]))
    for name in ("pay_ratio", "commute_km", "level", "last_promoted_on", "manager_changes_1y"):
        assert facts[name] is None, name


# --- manager changes ---------------------------------------------------------------------


def test_manager_changes_count_changes_of_the_past_year_and_prune_older_ones() -> None:
    events = [
        employee("employee.hired", START, name="Li", hired_on="2026-01-05", manager_id="M1"),
        employee("employee.updated", START + timedelta(days=40), manager_id="M2"),
        employee("employee.updated", START + timedelta(days=60), manager_id="M2"),  # same one
        employee("employee.updated", START + timedelta(days=80), title="Lead"),  # no manager
        employee("employee.updated", START + timedelta(days=200), manager_id="M3"),
    ]
    facts, _ = fold_all(events[:1])
    assert facts["manager_changes_1y"] == 0  # known: hired, no change yet
    facts, _ = fold_all(events)
    assert facts["manager_changes_1y"] == 2

    # 420 days after the hire: the change at day 40 has left the 365-day window.
    later = attendance(START + timedelta(days=420), 1.0)
    facts, _ = fold_all([*events, later])
    assert facts["manager_changes_1y"] == 1
    # The next employee event prunes: kept are the assignment the window starts with (day
    # 40) and those inside it (days 60 and 200).
    update = employee("employee.updated", START + timedelta(days=420), title="Principal")
    facts, state = fold_all([*events, update])
    assert facts["manager_changes_1y"] == 1
    assert [m["at"][:10] for m in state["managers"]] == [
        (START + timedelta(days=d)).isoformat() for d in (40, 60, 200)
    ]

    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    assert fold_all([*shuffled, update])[0] == facts


# --- weekly overtime ---------------------------------------------------------------------


def test_recent_weeks_are_read_against_the_own_baseline_and_the_streak() -> None:
    facts, _ = fold_all(weeks_of([7.0] * 8 + [10.0, 28.0, 28.0, 28.0]))
    # The last 4 weeks average 23.5 h, the 8 before them 7 h.
    assert facts["overtime_vs_own_baseline"] == pytest.approx(16.5)
    # 28 h > 8 h and > 1.5 x 7 h three weeks in a row; the 10 h week before them is not heavy.
    assert facts["overtime_streak_weeks"] == 3
    assert facts["overtime_hours_28d"] == pytest.approx(94.0)


def test_with_fewer_than_eight_weeks_the_baseline_is_unknown() -> None:
    facts, _ = fold_all(weeks_of([5.0] * 7))
    assert facts["overtime_vs_own_baseline"] is None
    assert facts["overtime_streak_weeks"] is None
    facts, _ = fold_all(weeks_of([5.0] * 8))
    assert facts["overtime_vs_own_baseline"] == pytest.approx(0.0)
    assert facts["overtime_streak_weeks"] == 0


def test_a_week_without_reports_counts_as_no_overtime() -> None:
    events = weeks_of([7.0] * 12)
    gap = [
        e for e in events if not 14 <= (date.fromisoformat(e["data"]["day"]) - START).days < 21
    ]  # the third week is never reported
    facts, _ = fold_all(gap)
    # Baseline: 7 of the 8 earlier weeks at 7 h, one at 0 -> 6.125 h; the recent ones 7 h.
    assert facts["overtime_vs_own_baseline"] == pytest.approx(7.0 - 6.125)


def test_the_history_keeps_26_weeks_and_a_resent_day_replaces_the_first() -> None:
    events = weeks_of([7.0] * 30)
    facts, state = fold_all(events)
    assert len(state["overtime"]) == 26 * 7
    assert min(state["overtime"]) == (START + timedelta(weeks=4)).isoformat()
    assert facts["overtime_vs_own_baseline"] == pytest.approx(0.0)

    last = date.fromisoformat(events[-1]["data"]["day"])
    resent = {**attendance(last, 71.0), "id": "resent"}  # 70 h more in the latest week
    facts, state = fold_all([*events, resent])
    assert state["overtime"][last.isoformat()] == 71.0
    assert facts["overtime_vs_own_baseline"] == pytest.approx(70 / 4)


def test_weekly_facts_do_not_depend_on_arrival_order() -> None:
    events = weeks_of([6.0, 2.0, 9.0, 4.0, 7.0, 3.0, 5.0, 8.0, 20.0, 25.0, 30.0, 26.0])
    expected, _ = fold_all(events)
    rng = random.Random(11)
    for _ in range(5):
        shuffled = events[:]
        rng.shuffle(shuffled)
        assert fold_all(shuffled)[0] == expected


def test_weekly_facts_match_the_training_definitions_of_the_generated_company() -> None:
    company = generate(300, 26, seed=5)
    columns = company_columns(company)
    crunch = np.flatnonzero(company.drivers["crunch_weeks"] >= 3)[:3]
    calm = np.flatnonzero(company.drivers["crunch_weeks"] == 0)[:2]
    for i in [*crunch, *calm]:
        facts, _ = fold_all(weeks_of([float(h) for h in company.overtime[i]]))
        for name in (
            "overtime_vs_own_baseline",
            "overtime_streak_weeks",
            "overtime_hours_28d",
            "overtime_hours_7d",
        ):
            assert facts[name] == pytest.approx(float(columns[name][i]), abs=1e-3), (i, name)


# --- leave -------------------------------------------------------------------------------


def test_leave_days_of_the_last_13_weeks() -> None:
    facts, _ = fold_all(weeks_of([5.0]))
    assert facts["leave_days_90d"] is None  # no leave ever reported: unknown, not 0

    today = START + timedelta(days=120)
    events = [
        leave(START + timedelta(days=10)),  # 110 days before: outside the window
        leave(today - timedelta(days=60)),
        leave(today - timedelta(days=30), 0.5),
        leave(today - timedelta(days=20)),
        leave(today - timedelta(days=20), 0.0, reported=today - timedelta(days=19)),  # withdrawn
        attendance(today, 1.0),
    ]
    facts, state = fold_all(events)
    assert facts["leave_days_90d"] == 1.5
    assert (START + timedelta(days=10)).isoformat() not in state["leave"]

    # Leave taken long ago is a known 0 now: leave is reported for this employee.
    facts, _ = fold_all([*events[:1], attendance(today, 1.0)])
    assert facts["leave_days_90d"] == 0.0
