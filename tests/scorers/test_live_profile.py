"""A live profile fed the right events is scored on its own values, not on training medians."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from wendu.scorers import attrition, burnout
from wendu.scorers.attrition import TabularScorer
from wendu.scorers.features import ATTRITION_FEATURES, BURNOUT_FEATURES, context_record
from wendu.scorers.trainers import TrainOptions
from wendu.store.profile import fold

EMP = {"id": "E1", "timezone": "Asia/Shanghai", "hired_on": "2023-02-06", "manager_id": "M1"}
START = date(2026, 1, 5)  # a Monday; 12 weeks of attendance end on 2026-03-29
AS_OF = "2026-03-30T09:00:00+08:00"


@pytest.fixture(scope="module")
def scorers(tmp_path_factory) -> dict[str, TabularScorer]:
    root = tmp_path_factory.mktemp("models")
    return {"attrition": TabularScorer(attrition.train(TrainOptions(root))),
            "burnout": TabularScorer(burnout.train(TrainOptions(root)))}


def ev(etype: str, on: date, hour: int = 10, **data) -> dict:
    at = datetime(on.year, on.month, on.day, hour).isoformat() + "+08:00"
    return {"id": f"{etype}-{on}-{hour}", "type": etype, "employee_id": "E1",
            "occurred_at": at, "data": data}


def attendance(hours_per_week: list[float]) -> list[dict]:
    """Weekdays only, each week's hours over its five days, a clock-out at 19:00."""
    out = []
    for w, hours in enumerate(hours_per_week):
        for d in range(7):
            day = START + timedelta(days=7 * w + d)
            out.append(ev("attendance.day_closed", day, 22, day=day.isoformat(),
                          clock_in=f"{day}T09:00:00+08:00", clock_out=f"{day}T19:00:00+08:00",
                          overtime_hours=hours / 5 if d < 5 else 0.0))
    return out


def profile(hours_per_week: list[float], monthly_pay: float = 10500) -> dict:
    events = [
        ev("employee.hired", START - timedelta(days=1000), name="Li", hired_on="2023-02-06",
           manager_id="M0", monthly_pay=monthly_pay, pay_band_median=10000, commute_km=31.0,
           level=3, last_promoted_on="2024-03-01"),
        ev("employee.updated", START + timedelta(days=20), manager_id="M1"),
        ev("survey.response", START + timedelta(days=27), survey_id="q1", satisfaction=3.8),
        ev("survey.response", START + timedelta(days=55), survey_id="q2", satisfaction=3.1),
        ev("performance.review", START + timedelta(days=40), period="2025H2",
           scores={"delivery": 3.5, "collaboration": 4.0}),
        ev("leave.taken", START + timedelta(days=30), 8,
           day=(START + timedelta(days=30)).isoformat()),
        *attendance(hours_per_week),
    ]
    facts: dict = {}
    state: dict = {}
    for e in sorted(events, key=lambda e: e["occurred_at"]):
        facts, state = fold(facts, state, EMP, e)
    return facts


CALM_THEN_CRUNCH = [5.0] * 8 + [25.0] * 4
ALWAYS_BUSY = [25.0] * 12
LIGHT = [3.0] * 12


def test_years_since_promotion_is_counted_to_the_scoring_time() -> None:
    record = context_record({"profile": {"last_promoted_on": "2024-01-01"},
                             "as_of": "2026-01-01T08:00:00+08:00"})
    assert record["years_since_promotion"] == 2.0
    # A caller's own value wins over the derived one.
    given = context_record({"profile": {"last_promoted_on": "2024-01-01"},
                            "features": {"years_since_promotion": 0.5}})
    assert given["years_since_promotion"] == 0.5


def test_attrition_reads_pay_commute_level_promotion_and_manager_changes(scorers) -> None:
    facts = profile(LIGHT)
    context = {"profile": facts, "employee": EMP, "as_of": AS_OF}
    assert facts["manager_changes_1y"] == 1 and facts["pay_ratio"] == 1.05
    result = scorers["attrition"].score(context)
    assert result["imputed"] == []
    record = context_record(context)
    assert {f: record[f] for f in ("pay_ratio", "commute_km", "level", "manager_changes_1y")} \
        == {"pay_ratio": 1.05, "commute_km": 31.0, "level": 3, "manager_changes_1y": 1}
    assert record["years_since_promotion"] == pytest.approx(2.08, abs=0.01)
    assert set(ATTRITION_FEATURES) <= set(record)
    # The long commute and the manager change are named with the employee's own values.
    shown = {f["name"]: f for f in result["factors"]}
    assert (shown["commute_km"]["value"], shown["commute_km"]["imputed"]) == (31.0, False)
    assert shown["manager_changes_1y"]["direction"] == "increases"

    underpaid = scorers["attrition"].score({**context, "profile": profile(LIGHT, 8000)})
    assert underpaid["value"] > result["value"]


def test_burnout_reads_the_own_baseline_streak_and_leave(scorers) -> None:
    team = {"overtime_vs_team": 10.0}
    crunch = profile(CALM_THEN_CRUNCH)
    busy = profile(ALWAYS_BUSY)
    # The same last four weeks: the 7- and 28-day facts cannot tell the two apart.
    for name in ("overtime_hours_7d", "overtime_hours_28d", "late_departures_7d",
                 "weekend_days_7d"):
        assert crunch[name] == busy[name], name
    assert crunch["overtime_vs_own_baseline"] == pytest.approx(20.0)
    assert busy["overtime_vs_own_baseline"] == pytest.approx(0.0)
    assert (crunch["overtime_streak_weeks"], busy["overtime_streak_weeks"]) == (4, 0)
    assert crunch["leave_days_90d"] == 1.0

    scored = scorers["burnout"].score({"profile": crunch, "features": team})
    assert scored["imputed"] == []
    assert set(BURNOUT_FEATURES) <= set(context_record({"profile": crunch, "features": team}))
    baseline = scorers["burnout"].score({"profile": busy, "features": team})
    # Load well above the employee's own normal is what raises the risk.
    assert scored["value"] > baseline["value"]
    top = {f["name"]: f for f in scored["factors"]}
    assert top["overtime_vs_own_baseline"]["value"] == pytest.approx(20.0)
    assert not top["overtime_vs_own_baseline"]["imputed"]


def test_what_no_event_carried_is_still_imputed_and_named(scorers) -> None:
    facts = profile(ALWAYS_BUSY[:6])  # six weeks: no baseline yet
    result = scorers["burnout"].score({"profile": facts})
    assert set(result["imputed"]) == {"overtime_vs_own_baseline", "overtime_streak_weeks",
                                      "overtime_vs_team"}
