"""Attendance in the profile: the 28-day window of closed days and 26 weeks of overtime.

The weekly facts the burnout scorer needs follow its training data (scorers/features.py): a
week is 7 days ending at the snapshot, so the last 4 weeks are the 28-day window, and the own
baseline is the mean of the up to 22 weeks before them. For that the state keeps each day's
overtime for 26 weeks, a few KB per employee.

The snapshot is the evaluation time, not the latest day reported (ARCHITECTURE decision 9):
the windows end on the latest day that can have closed by then (`window_end`), so a scan three
weeks after someone's last attendance reads three quiet weeks, not their last busy one.

Days are keyed by ISO date strings, which sort and compare as the dates they name, so the
windows run on plain string comparisons: this code runs once per attendance event.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from wendu.store.profile_values import as_date, days_before, iso_day, local, ordinal

DAYS_KEPT = 28
# The tabular scorers' training window (scorers/attrition.py TRAIN_WEEKS): 4 recent weeks
# against the baseline of the up to 22 before them.
OVERTIME_WEEKS = 26
RECENT_WEEKS = 4
# Fewer weeks before the recent four make a baseline of one odd month; the fact stays unknown.
BASELINE_MIN_WEEKS = 4
# A week of the streak: more than this many hours and this many times the own baseline.
STREAK_HOURS = 8.0
STREAK_FACTOR = 1.5
LATE_AFTER = time(21, 0)


def fold_attendance(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    day = iso_day(data["day"])
    hours = float(data.get("overtime_hours") or 0.0)
    _fold_overtime_history(state, day, hours)
    days: dict[str, dict] = state.get("days") or {}
    anchor = max(day, max(days)) if days else day
    cutoff = days_before(anchor, DAYS_KEPT)
    if day <= cutoff:
        return  # older than every window: nothing it could change
    weekend = data.get("weekend")
    calendar_day = as_date(day)
    # Compared with 21:00 *on that day*, so a clock-out after midnight counts as late too.
    late = local(data["clock_out"], zone) > datetime.combine(calendar_day, LATE_AFTER)
    # A re-sent day replaces the earlier report of the same day.
    days = {
        **days,
        day: {
            "overtime": hours,
            "late": bool(late),
            "weekend": bool(weekend) if weekend is not None else calendar_day.weekday() >= 5,
        },
    }
    state["days"] = {d: v for d, v in sorted(days.items()) if d > cutoff}


def _fold_overtime_history(state: dict, day: str, hours: float) -> None:
    """Each day's overtime for OVERTIME_WEEKS weeks, the weekly facts' raw material.

    `overtime_since` remembers the first day ever reported, so a history that started three
    weeks ago is not read as 26 weeks with little overtime in the first 23."""
    history = state.get("overtime")
    if history is None:
        # A profile folded before the history was kept starts from the days it has.
        history = {d: v["overtime"] for d, v in (state.get("days") or {}).items()}
    latest = max(history) if history else day
    cutoff = days_before(max(day, latest), 7 * OVERTIME_WEEKS)
    earliest = min(history, default=day)
    since = state.get("overtime_since") or earliest
    state["overtime_since"] = min(since, day)
    if day <= cutoff:
        return  # older than the history: the weeks it belongs to are no longer read
    # Usually nothing fell out of the window, and a plain copy will do.
    kept = dict(history) if earliest > cutoff else {d: h for d, h in history.items() if d > cutoff}
    kept[day] = hours  # a re-sent day replaces the first report, in its place
    state["overtime"] = kept


def window_end(days: dict | None, today: str | None) -> str | None:
    """The last day of the windows as of `today` (the evaluation time's local date): today
    once today's attendance has closed, else yesterday, the latest day that could have. A
    Monday 09:00 scan reads Monday to Sunday of last week; an attendance event for today reads
    the 7 days ending today. Without an evaluation time, the latest day reported."""
    if today is None:
        return max(days) if days else None
    return today if days and today in days else days_before(today, 1)


def derive_attendance(facts: dict, state: dict, today: str | None = None) -> None:
    days = state.get("days")
    if not days:
        return
    anchor = window_end(days, today)
    assert anchor is not None
    week_cutoff = days_before(anchor, 7)
    month_cutoff = days_before(anchor, DAYS_KEPT)
    # Summed in the state's order, as they always were: the same floats to the last bit.
    week = month = 0
    late = weekend = 0
    for d, v in days.items():
        if month_cutoff < d <= anchor:
            month += v["overtime"]
            if d > week_cutoff:
                week += v["overtime"]
                late += 1 if v["late"] else 0
                weekend += 1 if v["weekend"] else 0
    facts["last_attendance_day"] = max((d for d in days if d <= anchor), default=None)
    facts["overtime_hours_7d"] = round(week, 4)
    facts["late_departures_7d"] = late
    facts["weekend_days_7d"] = weekend
    facts["overtime_hours_28d"] = round(month, 4)


def weekly_overtime(state: dict, at_least: int = 0, today: str | None = None) -> list[float]:
    """Overtime per week, the latest first: 7-day blocks ending at `window_end` as of `today`.

    Only whole weeks since the first reported day count, and a day without a report adds 0.
    Fewer than `at_least` weeks give [] without summing (what the facts cannot use)."""
    history = state.get("overtime") or {}
    since = state.get("overtime_since")
    if not history or not since:
        return []
    end = window_end(history, today)
    assert end is not None
    anchor = ordinal(end)
    weeks = min(OVERTIME_WEEKS, (anchor - ordinal(since) + 1) // 7)
    if weeks <= 0 or weeks < at_least:
        return []
    totals = [0.0] * weeks
    for day, hours in history.items():  # runs on every fold: day numbers, not dates
        week = (anchor - ordinal(day)) // 7
        if 0 <= week < weeks:
            totals[week] += hours
    return [round(t, 4) for t in totals]


def derive_weekly_overtime(facts: dict, state: dict, today: str | None = None) -> None:
    """Recent load against the own baseline and the streak of heavy weeks, defined as the
    burnout scorer's training data defines them (scorers/features.py `company_columns`)."""
    weeks = weekly_overtime(state, at_least=RECENT_WEEKS + BASELINE_MIN_WEEKS, today=today)
    if len(weeks) < RECENT_WEEKS + BASELINE_MIN_WEEKS:
        return
    recent = sum(weeks[:RECENT_WEEKS]) / RECENT_WEEKS
    baseline = sum(weeks[RECENT_WEEKS:]) / (len(weeks) - RECENT_WEEKS)
    facts["overtime_vs_own_baseline"] = round(recent - baseline, 4)
    streak = 0
    for hours in weeks:
        if not (hours > STREAK_HOURS and hours > STREAK_FACTOR * baseline):
            break
        streak += 1
    facts["overtime_streak_weeks"] = streak
