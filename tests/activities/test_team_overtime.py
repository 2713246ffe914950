"""The SCORE activity gives a burnout scorer the team baseline, read from the team's profiles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event
from temporalio.testing import ActivityEnvironment

from wendu.activities.outcomes import ScoreActivities
from wendu.activities.score_inputs import team_overtime
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.scorers.registry import ScorerRegistry
from wendu.store.models import Profile
from wendu.workflows.io import ScoreInput

LAST = date(2026, 3, 1)


class Spy:
    """A burnout scorer that keeps the context it was given."""

    name = "burnout"
    model_version = "spy-1"
    features = ["overtime_hours_28d", "overtime_vs_team"]

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def label(self, value: float) -> str:
        return "low"

    def score(self, context):
        self.seen.append(context)
        return {"value": 0.1, "label": "low", "factors": [], "model_version": self.model_version}


def hire(emp: str, manager: str | None) -> dict:
    data = {"name": emp, "hired_on": "2024-01-01", **({"manager_id": manager} if manager else {})}
    return {"id": f"hire-{emp}", "type": "employee.hired", "employee_id": emp,
            "occurred_at": "2024-01-01T09:00:00+08:00", "data": data}


def month(emp: str, hours_per_week: float, last: date = LAST) -> list[dict]:
    """28 days of attendance ending at `last`, the week's hours spread over 7 days."""
    out = []
    for i in range(28):
        day = last - timedelta(days=i)
        out.append({"id": f"att-{emp}-{day}", "type": "attendance.day_closed",
                    "employee_id": emp, "occurred_at": f"{day}T20:00:00+08:00",
                    "data": {"day": day.isoformat(), "clock_in": f"{day}T09:00:00+08:00",
                             "clock_out": f"{day}T19:00:00+08:00",
                             "overtime_hours": hours_per_week / 7}})
    return out


def seed(factory) -> None:
    events = [
        hire("M1", None), hire("M2", None),
        *(hire(e, "M1") for e in ("E1", "E2", "E3", "E4", "E5", "E6")), hire("E9", "M2"),
        *month("E1", 20.0), *month("E2", 10.0), *month("E3", 10.0), *month("E4", 0.0),
        *month("E5", 50.0),  # has left: not the team any more
        *month("E6", 50.0, LAST - timedelta(days=60)),  # two months old: not today's load
        *month("E9", 40.0),  # another manager's team
        {"id": "left-E5", "type": "employee.left", "employee_id": "E5",
         "occurred_at": "2026-03-02T09:00:00+08:00", "data": {"left_on": "2026-03-02"}},
    ]
    with factory.begin() as session:
        ingest(session, events, RuleIndex([]))


def facts(factory, emp: str) -> dict:
    with factory() as session:
        return dict(session.get(Profile, emp).facts)


async def score(factory, scorer, emp: str, context: dict) -> None:
    activity = ScoreActivities(factory, ScorerRegistry([scorer]))
    inp = ScoreInput(workflow_id=f"rule/r/{emp}", step_id="steps[0]", scorer="burnout",
                     employee_id=emp, context=context)
    await ActivityEnvironment().run(activity.score, inp)


async def test_the_team_baseline_is_the_employees_load_minus_their_teams(session_factory):
    seed(session_factory)
    spy = Spy()
    await score(session_factory, spy, "E1", {"profile": facts(session_factory, "E1")})
    # E1-E4 work 20, 10, 10 and 0 h a week: the team's 10 h against E1's 20 h.
    assert spy.seen[0]["features"]["overtime_vs_team"] == 10.0
    assert team_overtime(session_factory, "E1", str(LAST)) == (40.0, 4)


async def test_the_team_is_read_in_one_query(session_factory):
    seed(session_factory)
    statements: list[str] = []
    engine = session_factory.kw["bind"]

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        team_overtime(session_factory, "E2", str(LAST))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


async def test_without_a_team_the_baseline_is_left_to_the_scorer_to_impute(session_factory):
    seed(session_factory)
    spy = Spy()
    await score(session_factory, spy, "E9", {"profile": facts(session_factory, "E9")})
    assert "overtime_vs_team" not in (spy.seen[0].get("features") or {})
    # Nor for someone without attendance of their own.
    await score(session_factory, spy, "M1", {"profile": facts(session_factory, "M1")})
    assert "overtime_vs_team" not in (spy.seen[1].get("features") or {})


async def test_a_scorer_that_does_not_read_the_team_baseline_does_not_get_it(session_factory):
    seed(session_factory)
    spy = Spy()
    spy.features = ["overtime_hours_28d"]
    await score(session_factory, spy, "E1", {"profile": facts(session_factory, "E1")})
    assert "features" not in spy.seen[0]


async def test_a_colleagues_month_counts_as_of_the_reading_not_of_their_last_day(session_factory):
    seed(session_factory)
    # E7 worked 70 h a week until 20 days before LAST, then nothing was reported.
    with session_factory.begin() as session:
        ingest(session, [hire("E7", "M1"), *month("E7", 70.0, LAST - timedelta(days=20))],
               RuleIndex([]))
    reading = f"{LAST}T21:00:00+08:00"
    # Of E7's month only the 9 days in the 28 ending yesterday (E7 closed no day today) count:
    # 90 h, not 280 h.
    assert team_overtime(session_factory, "E1", str(LAST), reading) == (
        pytest.approx((80.0 + 40.0 + 40.0 + 0.0 + 90.0) / 5), 5)
    assert team_overtime(session_factory, "E1", str(LAST))[0] == pytest.approx(
        (80.0 + 40.0 + 40.0 + 0.0 + 280.0) / 5)
