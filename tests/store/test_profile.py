"""The profile fold: windows, late departures in the employee's zone, scores, arrival order."""

from __future__ import annotations

import copy
import itertools
import json
import random
from datetime import date, datetime, timedelta

import pytest

from wendu.rules.catalog import PROFILE_FIELDS
from wendu.store.profile import derive, fold, fold_state

SHANGHAI = {
    "id": "E1",
    "timezone": "Asia/Shanghai",
    "hired_on": "2025-01-06",
    "locale": "en",
    "manager_id": "M1",
    "hometown_city": "Chengdu",
}
MONDAY = date(2026, 1, 5)


def day_event(day: date, overtime: float = 4.0, out: str = "22:30:00+08:00", **extra) -> dict:
    clock_out = out if "T" in out else f"{day.isoformat()}T{out}"
    return {
        "id": f"a-{day}-{overtime}",
        "type": "attendance.day_closed",
        "employee_id": "E1",
        "occurred_at": f"{day.isoformat()}T23:00:00+08:00",
        "data": {
            "day": day.isoformat(),
            "clock_in": f"{day.isoformat()}T09:00:00+08:00",
            "clock_out": clock_out,
            "overtime_hours": overtime,
            **extra,
        },
    }


def event(etype: str, at: str, **data) -> dict:
    return {
        "id": f"{etype}-{at}",
        "type": etype,
        "employee_id": "E1",
        "occurred_at": at,
        "data": data,
    }


def fold_all(events: list[dict], employee: dict = SHANGHAI) -> tuple[dict, dict]:
    facts: dict = {}
    state: dict = {}
    for e in events:
        facts, state = fold(facts, state, employee, e)
    return facts, state


def test_a_new_profile_has_every_field_with_its_default() -> None:
    facts, _ = fold_all(
        [event("chat.message", "2026-01-05T10:00:00+08:00", text="hi", channel="web")]
    )
    assert set(facts) == set(PROFILE_FIELDS)
    assert facts["overtime_hours_7d"] == 0.0
    assert facts["satisfaction_last"] is None
    assert facts["performance_last"] == {}
    assert facts["employee_id"] == "E1"
    assert facts["manager_id"] == "M1" and facts["hometown_city"] == "Chengdu"
    assert facts["locale"] == "en" and facts["timezone"] == "Asia/Shanghai"
    assert facts["tenure_days"] == (MONDAY - date(2025, 1, 6)).days
    assert facts["last_event_at"] == "2026-01-05T10:00:00+08:00"


def test_overtime_windows_are_anchored_on_the_latest_day() -> None:
    days = [MONDAY + timedelta(days=i) for i in range(6)]  # Mon..Sat, 4h each
    facts, _ = fold_all([day_event(d) for d in days])
    assert facts["overtime_hours_7d"] == 24.0
    assert facts["overtime_hours_28d"] == 24.0
    assert facts["last_attendance_day"] == "2026-01-10"
    assert facts["weekend_days_7d"] == 1  # Saturday, from the weekday when `weekend` is absent

    # Ten days later only that day is in the 7-day window; all are in the 28-day one.
    later = day_event(MONDAY + timedelta(days=15), overtime=2.0)
    facts, _ = fold_all([day_event(d) for d in days] + [later])
    assert facts["overtime_hours_7d"] == 2.0
    assert facts["late_departures_7d"] == 1
    assert facts["overtime_hours_28d"] == 26.0


def test_state_keeps_at_most_28_days() -> None:
    facts, state = fold_all([day_event(MONDAY + timedelta(days=i), 1.0) for i in range(40)])
    assert len(state["days"]) == 28
    assert facts["overtime_hours_28d"] == 28.0
    assert facts["overtime_hours_7d"] == 7.0


@pytest.mark.parametrize(
    ("clock_out", "zone", "late"),
    [
        ("2026-01-05T13:30:00+00:00", "Asia/Shanghai", True),  # 21:30 in Shanghai
        ("2026-01-05T13:30:00+00:00", "Europe/Berlin", False),  # 14:30 in Berlin
        ("2026-01-05T21:30:00", "Europe/Berlin", True),  # no offset: already local time
        ("2026-01-05T21:00:00", "Asia/Shanghai", False),  # 21:00 is not after 21:00
        ("2026-01-06T00:40:00+08:00", "Asia/Shanghai", True),  # past midnight is late too
        ("2026-01-05T20:59:00+08:00", "Asia/Shanghai", False),
    ],
)
def test_late_departure_is_judged_in_the_employees_time_zone(clock_out, zone, late) -> None:
    facts, _ = fold_all([day_event(MONDAY, out=clock_out)], {**SHANGHAI, "timezone": zone})
    assert facts["late_departures_7d"] == int(late)


def test_a_resent_day_replaces_the_first_report() -> None:
    resent = day_event(MONDAY, 2.0, out="18:00:00+08:00")
    facts, state = fold_all([day_event(MONDAY, 6.0), resent])
    assert facts["overtime_hours_7d"] == 2.0
    assert facts["late_departures_7d"] == 0
    assert len(state["days"]) == 1


def test_explicit_weekend_flag_wins_over_the_weekday() -> None:
    facts, _ = fold_all(
        [day_event(MONDAY, weekend=True), day_event(MONDAY + timedelta(days=5), weekend=False)]
    )
    assert facts["weekend_days_7d"] == 1


def test_arrival_order_does_not_change_the_windows() -> None:
    events = [
        day_event(
            MONDAY + timedelta(days=i),
            overtime=float(i % 5),
            out="22:00:00+08:00" if i % 3 else "19:00:00+08:00",
        )
        for i in range(35)
    ]
    expected, _ = fold_all(events)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = events[:]
        rng.shuffle(shuffled)
        facts, _ = fold_all(shuffled)
        assert facts == expected


def test_a_day_older_than_every_window_changes_nothing() -> None:
    recent = [day_event(MONDAY + timedelta(days=30 + i)) for i in range(3)]
    before, _ = fold_all(recent)
    after, _ = fold_all(recent + [day_event(MONDAY, overtime=9.0)])
    assert {k: v for k, v in after.items() if k != "last_event_at"} == {
        k: v for k, v in before.items() if k != "last_event_at"
    }


def test_satisfaction_last_average_trend_and_drop() -> None:
    scores = [4.5, 4.5, 4.5, 2.0]
    events = [
        event(
            "survey.response", f"2026-01-0{i + 1}T10:00:00+08:00", survey_id=f"p{i}", satisfaction=s
        )
        for i, s in enumerate(scores)
    ]
    facts, _ = fold_all(events)
    assert facts["satisfaction_last"] == 2.0
    assert facts["satisfaction_avg"] == 4.5
    assert facts["satisfaction_drop"] == 2.5
    assert facts["satisfaction_trend"] == pytest.approx(-0.75)
    # Arriving in reverse order: the latest answer is still the one that happened last.
    assert fold_all(list(reversed(events)))[0] == facts


def test_satisfaction_average_uses_at_most_the_five_previous_scores() -> None:
    scores = [1.0, 5.0, 5.0, 5.0, 5.0, 5.0, 3.0]
    events = [
        event(
            "survey.response", f"2026-01-0{i + 1}T10:00:00+08:00", survey_id=f"p{i}", satisfaction=s
        )
        for i, s in enumerate(scores)
    ]
    facts, _ = fold_all(events)
    assert facts["satisfaction_avg"] == 5.0  # the first 1.0 is out of the window
    assert facts["satisfaction_drop"] == 2.0
    assert facts["satisfaction_trend"] == pytest.approx(-0.4)  # slope of 5,5,5,5,3


def test_one_score_has_no_average_and_no_trend() -> None:
    facts, _ = fold_all(
        [event("survey.response", "2026-01-01T10:00:00+08:00", survey_id="p", satisfaction=3.0)]
    )
    assert facts["satisfaction_last"] == 3.0
    assert facts["satisfaction_avg"] is None
    assert facts["satisfaction_drop"] == 0.0 and facts["satisfaction_trend"] == 0.0


def test_feedback_is_counted_but_its_text_is_never_kept() -> None:
    events = [
        event(
            "feedback.submitted",
            f"2026-01-{d:02d}T10:00:00+08:00",
            text=f"my manager is unfair #{d}",
            channel="1on1",
        )
        for d in (1, 20, 25)
    ]
    facts, state = fold_all(events)
    assert facts["feedback_count_30d"] == 3
    assert "unfair" not in json.dumps([facts, state])
    facts, _ = fold_all(
        events + [event("chat.message", "2026-02-05T10:00:00+08:00", text="x", channel="web")]
    )
    assert facts["feedback_count_30d"] == 2  # 1 Jan is more than 30 days before 5 Feb


def test_performance_and_training() -> None:
    events = [
        event(
            "performance.review",
            "2026-01-10T10:00:00+08:00",
            period="2025H2",
            scores={"delivery": 4.0, "communication": 2.5, "teamwork": 2.5},
        ),
        event(
            "performance.review",
            "2025-07-10T10:00:00+08:00",
            period="2025H1",
            scores={"delivery": 1.0},
            overall=1.0,
        ),  # older review arriving late
        event("training.completed", "2025-09-01T10:00:00+08:00", course_id="c1"),
        event("training.completed", "2026-01-02T10:00:00+08:00", course_id="c2"),
        event("training.completed", "2026-01-03T10:00:00+08:00", course_id="c2"),  # re-report
    ]
    facts, _ = fold_all(events)
    assert facts["performance_last"] == {"delivery": 4.0, "communication": 2.5, "teamwork": 2.5}
    assert facts["performance_overall"] == 3.0
    assert facts["performance_weakest"] == "communication"
    assert facts["training_completed_total"] == 2
    assert facts["training_completed_90d"] == 1


def test_project_progress_keeps_the_latest_report() -> None:
    facts, _ = fold_all(
        [
            event(
                "project.progress",
                "2026-01-05T10:00:00+08:00",
                project_id="P1",
                project_name="Payroll",
                percent_done=40,
            ),
            event(
                "project.progress", "2026-01-08T10:00:00+08:00", project_id="P1", percent_done=55
            ),
            event(
                "project.progress", "2026-01-06T10:00:00+08:00", project_id="P1", percent_done=45
            ),
        ]
    )
    assert (facts["project_id"], facts["project_name"], facts["project_percent_done"]) == (
        "P1",
        "Payroll",
        55.0,
    )


def test_fold_is_pure() -> None:
    facts, state = fold_all([day_event(MONDAY + timedelta(days=i)) for i in range(3)])
    frozen = copy.deepcopy((facts, state, SHANGHAI))
    fold(facts, state, SHANGHAI, day_event(MONDAY + timedelta(days=3)))
    fold(
        facts,
        state,
        SHANGHAI,
        event("survey.response", "2026-01-09T10:00:00+08:00", survey_id="s", satisfaction=4),
    )
    assert (facts, state, SHANGHAI) == frozen


def test_fold_is_fold_state_then_derive() -> None:
    # Ingestion folds a batch with fold_state and derives only where facts are read.
    events = [day_event(MONDAY + timedelta(days=i)) for i in range(3)]
    events.append(
        event("survey.response", "2026-01-09T10:00:00+08:00", survey_id="s", satisfaction=4)
    )
    facts, state = fold_all(events)
    folded: dict = {}
    for e in events:
        folded = fold_state(folded, SHANGHAI, e)
    assert folded == state
    assert derive(folded, SHANGHAI) == facts


def test_facts_and_state_are_json() -> None:
    events = [
        day_event(MONDAY),
        event("survey.response", "2026-01-09T10:00:00+08:00", survey_id="s", satisfaction=4),
    ]
    facts, state = fold_all(events)
    assert json.loads(json.dumps([facts, state])) == [facts, state]
    # Python values (as an in-process producer might pass) fold to the same JSON.
    py = copy.deepcopy(events[0])
    py["occurred_at"] = datetime.fromisoformat(py["occurred_at"])
    py["data"]["day"] = MONDAY
    assert fold({}, {}, SHANGHAI, py) == fold({}, {}, SHANGHAI, events[0])


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_surveys_in_any_order_give_the_same_profile(order) -> None:
    events = [
        event(
            "survey.response", f"2026-01-0{i + 1}T10:00:00+08:00", survey_id=f"p{i}", satisfaction=s
        )
        for i, s in enumerate([3.0, 4.0, 2.0])
    ]
    assert fold_all([events[i] for i in order])[0] == fold_all(events)[0]
