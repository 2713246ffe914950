"""Facts as of when they are read: tenure, windows, streaks and counts count to `as_of`.

The stored row dates from the employee's latest event; a scan weeks later derives again from
the state, as of its own time, and reads what is true then.
"""

from __future__ import annotations

from datetime import date, timedelta

from wendu.store.profile import derive, fold_state
from wendu.store.profile_overtime import window_end

EMPLOYEE = {"id": "E1", "timezone": "Asia/Shanghai", "hired_on": "2017-06-12"}
MONDAY = date(2026, 1, 5)


def at(day: date, clock: str = "09:00") -> str:
    return f"{day.isoformat()}T{clock}:00+08:00"


def attendance(day: date, hours: float) -> dict:
    return {"id": f"a-{day}", "type": "attendance.day_closed", "employee_id": "E1",
            "occurred_at": at(day, "23:00"),
            "data": {"day": day.isoformat(), "clock_in": at(day), "clock_out": at(day, "22:00"),
                     "overtime_hours": hours}}


def event(etype: str, when: str, **data) -> dict:
    return {"id": f"{etype}-{when}", "type": etype, "employee_id": "E1", "occurred_at": when,
            "data": data}


def state_of(events: list[dict]) -> dict:
    state: dict = {}
    for e in events:
        state = fold_state(state, EMPLOYEE, e)
    return state


def heavy_weeks(weeks: int, hours: float = 5.0, first: date = MONDAY) -> list[dict]:
    return [attendance(first + timedelta(days=i), hours) for i in range(7 * weeks)]


def test_tenure_counts_to_the_reading_not_to_the_hire_event() -> None:
    state = state_of([event("employee.hired", at(date(2017, 6, 12)))])
    assert derive(state, EMPLOYEE)["tenure_days"] == 0  # as of the hire itself
    later = derive(state, EMPLOYEE, at(date(2026, 11, 30)))
    assert later["tenure_days"] == (date(2026, 11, 30) - date(2017, 6, 12)).days
    assert later["as_of"] == at(date(2026, 11, 30))


def test_a_busy_month_leaves_the_windows_as_the_weeks_pass() -> None:
    state = state_of(heavy_weeks(4))  # Mon 5 Jan .. Sun 1 Feb, 5 h a day
    latest = derive(state, EMPLOYEE)
    assert (latest["overtime_hours_7d"], latest["overtime_hours_28d"]) == (35.0, 140.0)
    # Read on Monday 9 Feb: the last closed week was quiet, three busy weeks remain in 28 days.
    week_on = derive(state, EMPLOYEE, at(date(2026, 2, 9)))
    assert (week_on["overtime_hours_7d"], week_on["overtime_hours_28d"]) == (0.0, 105.0)
    assert week_on["late_departures_7d"] == 0 and week_on["weekend_days_7d"] == 0
    assert week_on["last_attendance_day"] == "2026-02-01"  # the latest day known stays known
    month_on = derive(state, EMPLOYEE, at(date(2026, 3, 2)))
    assert month_on["overtime_hours_28d"] == 0.0


def test_a_monday_morning_reads_last_week_whole() -> None:
    days = {d.isoformat(): {} for d in (MONDAY, MONDAY + timedelta(days=6))}
    assert window_end(days, (MONDAY + timedelta(days=7)).isoformat()) == "2026-01-11"
    assert window_end(days, "2026-01-11") == "2026-01-11"  # today closed: today counts
    assert window_end(days, None) == "2026-01-11"
    state = state_of(heavy_weeks(1))
    assert derive(state, EMPLOYEE, at(MONDAY + timedelta(days=7)))["overtime_hours_7d"] == 35.0


def test_the_streak_of_heavy_weeks_ends_when_they_stop() -> None:
    quiet = [attendance(MONDAY + timedelta(days=i), 0.5) for i in range(7 * 8)]
    busy = heavy_weeks(3, 6.0, MONDAY + timedelta(days=7 * 8))
    state = state_of(quiet + busy)
    assert derive(state, EMPLOYEE)["overtime_streak_weeks"] == 3
    two_weeks_on = MONDAY + timedelta(days=7 * 13)
    assert derive(state, EMPLOYEE, at(two_weeks_on))["overtime_streak_weeks"] == 0


def test_counts_of_recent_things_fall_out_of_their_windows() -> None:
    state = state_of([
        event("employee.hired", at(date(2025, 3, 3)), manager_id="M1"),
        event("employee.updated", at(date(2025, 9, 1)), manager_id="M2"),
        event("feedback.submitted", at(MONDAY), text="...", channel="web"),
        event("leave.taken", at(MONDAY), day=MONDAY.isoformat(), days=1),
        event("training.completed", at(MONDAY), course_id="C1"),
    ])
    now = derive(state, EMPLOYEE, at(MONDAY + timedelta(days=1)))
    assert (now["feedback_count_30d"], now["leave_days_90d"], now["training_completed_90d"],
            now["manager_changes_1y"]) == (1, 1.0, 1, 1)
    later = derive(state, EMPLOYEE, at(date(2026, 9, 7)))
    assert (later["feedback_count_30d"], later["leave_days_90d"],
            later["training_completed_90d"], later["manager_changes_1y"]) == (0, 0.0, 0, 0)
    assert later["training_completed_total"] == 1


def test_an_earlier_reading_does_not_see_what_had_not_happened_yet() -> None:
    state = state_of([*heavy_weeks(1), event("feedback.submitted", at(MONDAY + timedelta(days=6)),
                                              text="...", channel="web")])
    before = derive(state, EMPLOYEE, at(MONDAY + timedelta(days=2), "23:30"))
    assert before["overtime_hours_7d"] == 15.0  # Monday to Wednesday
    assert before["feedback_count_30d"] == 0
