"""The digital profile: facts folded from events one at a time, purely.

`fold` never touches the database: ingestion loads the stored (facts, state), folds every event
of a batch in memory and writes the result once. `state` holds the raw windows (one entry per
attendance day, recent scores, dates of recent feedback); `facts` are derived from the state on
every fold, so an event that arrives late (a re-sent or corrected day, a survey answered last
week) is placed where it belongs and the windows stay right whatever the arrival order.

The weekly facts the burnout scorer needs follow its training data (scorers/features.py): a
week is 7 days ending at the latest attendance day, so the last 4 weeks are the 28-day window,
and the own baseline is the mean of the up to 22 weeks before them. For that the state keeps
each day's overtime for 26 weeks, a few KB per employee. Employee events add what the HRIS
knows about pay, commute, level and promotions, and the dated manager assignments of the past
year; pay itself stays in the state, the facts carry only its ratio to the band median.

Everything in facts and state is plain JSON (dates as ISO strings): it goes into a JSON
column and into workflow history as the rule context.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wendu.rules.catalog import profile_defaults

DAYS_KEPT = 28
SCORES_KEPT = 6  # the latest score plus the previous five
TRAINING_DAYS = 90
FEEDBACK_DAYS = 30
# The tabular scorers' training window (scorers/attrition.py TRAIN_WEEKS): 4 recent weeks
# against the baseline of the up to 22 before them.
OVERTIME_WEEKS = 26
RECENT_WEEKS = 4
# Fewer weeks before the recent four make a baseline of one odd month; the fact stays unknown.
BASELINE_MIN_WEEKS = 4
# A week of the streak: more than this many hours and this many times the own baseline.
STREAK_HOURS = 8.0
STREAK_FACTOR = 1.5
LEAVE_DAYS = 91  # 13 weeks, the window leave_days_90d was trained on
MANAGER_DAYS = 365
EMPLOYMENT_FACTS = ("monthly_pay", "pay_band_median", "commute_km", "level", "last_promoted_on")
LATE_AFTER = time(21, 0)
DEFAULT_TZ = "Asia/Shanghai"


def fold(
    facts: dict[str, Any], state: dict[str, Any], employee: dict[str, Any], event: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fold one event into the profile; returns new (facts, state), the inputs stay untouched.

    `event` is the envelope (`id`, `type`, `employee_id`, `occurred_at`) with its payload under
    `data`; `employee` is the employee record after the event was applied (may be empty for an
    employee the HRIS has not announced yet).
    """
    del facts  # facts are derived from the state; kept in the signature for symmetry
    # Copy-on-write: handlers replace the containers they change, never mutate them, so a
    # shallow copy keeps the caller's state intact (and is far cheaper than a deep copy).
    state = dict(state or {})
    data = event.get("data") or {}
    occurred = _as_datetime(event["occurred_at"])
    tz = _zone(employee.get("timezone"))

    latest = state.get("last_event_at")
    if latest is None or occurred > _as_datetime(latest):
        state["last_event_at"] = occurred.isoformat()

    handler = _HANDLERS.get(event["type"])
    if handler:
        handler(state, data, occurred, tz)
    return derive(state, employee), state


def derive(state: dict[str, Any], employee: dict[str, Any]) -> dict[str, Any]:
    """The facts rules see, computed from the state and the employee record."""
    facts = profile_defaults()
    facts["employee_id"] = employee.get("id", facts["employee_id"])
    for name in ("manager_id", "hometown_city", "locale", "timezone"):
        if employee.get(name) is not None:
            facts[name] = employee[name]

    last_event = state.get("last_event_at")
    facts["last_event_at"] = last_event
    as_of = _as_datetime(last_event).astimezone(_zone(employee.get("timezone"))).date() if (
        last_event
    ) else None
    hired_on = employee.get("hired_on")
    if hired_on and as_of:
        facts["tenure_days"] = max(0, (as_of - _as_date(hired_on)).days)

    _derive_attendance(facts, state)
    _derive_weekly_overtime(facts, state)
    _derive_satisfaction(facts, state)
    _derive_counts(facts, state, last_event)
    _derive_employment(facts, state, last_event)
    if as_of:
        _derive_leave(facts, state, as_of)
    # Written by score steps (activities.score_inputs), not folded from events.
    facts["scores"] = copy.deepcopy(state.get("scores") or {})
    for name in ("performance_last", "performance_overall", "performance_weakest"):
        if name in state.get("performance", {}):
            facts[name] = copy.deepcopy(state["performance"][name])
    for name in ("project_id", "project_name", "project_percent_done"):
        if name in state.get("project", {}):
            facts[name] = state["project"][name]
    return facts


# --- folding, one handler per event type -------------------------------------------------


def _fold_attendance(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    day = _as_date(data["day"])
    _fold_overtime_history(state, day, float(data.get("overtime_hours") or 0.0))
    days: dict[str, dict] = dict(state.get("days") or {})
    anchor = max([day, *(_as_date(d) for d in days)])
    if day <= anchor - timedelta(days=DAYS_KEPT):
        return  # older than every window: nothing it could change
    weekend = data.get("weekend")
    out_local = _local(data["clock_out"], tz)
    # Compared with 21:00 *on that day*, so a clock-out after midnight counts as late too.
    late = out_local > datetime.combine(day, LATE_AFTER)
    # A re-sent day replaces the earlier report of the same day.
    days[day.isoformat()] = {
        "overtime": float(data.get("overtime_hours") or 0.0),
        "late": bool(late),
        "weekend": bool(weekend) if weekend is not None else day.weekday() >= 5,
    }
    cutoff = anchor - timedelta(days=DAYS_KEPT)
    state["days"] = {d: v for d, v in sorted(days.items()) if _as_date(d) > cutoff}


def _fold_overtime_history(state: dict, day: date, hours: float) -> None:
    """Each day's overtime for OVERTIME_WEEKS weeks, the weekly facts' raw material.

    `overtime_since` remembers the first day ever reported, so a history that started three
    weeks ago is not read as 26 weeks with little overtime in the first 23."""
    history = state.get("overtime")
    if history is None:
        # A profile folded before the history was kept starts from the days it has.
        history = {d: v["overtime"] for d, v in (state.get("days") or {}).items()}
    history = dict(history)
    latest = max(history) if history else day.isoformat()  # ISO dates sort as dates
    anchor = max(day, _as_date(latest))
    cutoff = (anchor - timedelta(days=7 * OVERTIME_WEEKS)).isoformat()
    since = state.get("overtime_since") or min(history, default=day.isoformat())
    state["overtime_since"] = min(since, day.isoformat())
    if day.isoformat() <= cutoff:
        return  # older than the history: the weeks it belongs to are no longer read
    history[day.isoformat()] = hours  # a re-sent day replaces the first report
    state["overtime"] = {d: h for d, h in history.items() if d > cutoff}


def _fold_leave(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    """Leave by day; a re-sent day replaces the first report (0 withdraws it).

    The key exists from the first leave event on: from then on no leave is a known 0, before
    it Wendu cannot tell leave not taken from leave not reported."""
    days = data.get("days")
    leave = dict(state.get("leave") or {})
    leave[_as_date(data["day"]).isoformat()] = 1.0 if days is None else float(days)
    latest = _as_datetime(state["last_event_at"]).astimezone(tz).date()
    cutoff = (latest - timedelta(days=LEAVE_DAYS)).isoformat()
    state["leave"] = {d: v for d, v in sorted(leave.items()) if d > cutoff}


def _fold_employee(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    _fold_employment(state, data, occurred)
    _fold_manager(state, data, occurred)


def _fold_employment(state: dict, data: dict, occurred: datetime) -> None:
    """Pay, band median, commute, level, promotion: each field's latest report wins, so an
    older update arriving late does not undo a newer one."""
    current = state.get("employment") or {}
    changed = dict(current)
    for name in EMPLOYMENT_FACTS:
        if name not in data:
            continue  # only the fields sent change
        previous = current.get(name)
        if previous is None or _as_datetime(previous["at"]) <= occurred:
            value = data[name]
            if isinstance(value, date):
                value = value.isoformat()  # state and facts are plain JSON
            changed[name] = {"value": value, "at": occurred.isoformat()}
    if changed != current:
        state["employment"] = changed


def _fold_manager(state: dict, data: dict, occurred: datetime) -> None:
    """Dated manager assignments of the past year, and the one before it.

    The assignment just before the window is what the first one inside it changed from. The
    list exists from the first employee event on, so no change then is a known 0."""
    managers = list(state.get("managers") or [])
    if data.get("manager_id") is not None:
        managers.append({"at": occurred.isoformat(), "manager_id": data["manager_id"]})
        managers.sort(key=lambda m: _as_datetime(m["at"]))
    latest = _as_datetime(state["last_event_at"])
    inside = [i for i, m in enumerate(managers)
              if latest - _as_datetime(m["at"]) < timedelta(days=MANAGER_DAYS)]
    first = inside[0] if inside else len(managers)
    state["managers"] = managers[max(first - 1, 0):]


def _fold_survey(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    scores = [s for s in state.get("satisfaction", []) if s["survey_id"] != data.get("survey_id")]
    scores.append({"at": occurred.isoformat(), "survey_id": data.get("survey_id"),
                   "score": float(data["satisfaction"])})
    scores.sort(key=lambda s: (_as_datetime(s["at"]), str(s["survey_id"])))
    state["satisfaction"] = scores[-SCORES_KEPT:]


def _fold_performance(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    previous = state.get("performance")
    if previous and _as_datetime(previous["at"]) > occurred:
        return  # an older review arriving late does not replace the latest one
    scores = {str(k): float(v) for k, v in (data.get("scores") or {}).items()}
    overall = data.get("overall")
    if overall is None and scores:
        overall = round(sum(scores.values()) / len(scores), 4)
    # Lowest score; ties broken by name so the same review always names the same dimension.
    weakest = min(sorted(scores), key=lambda k: scores[k]) if scores else None
    state["performance"] = {
        "at": occurred.isoformat(),
        "performance_last": scores,
        "performance_overall": float(overall) if overall is not None else None,
        "performance_weakest": weakest,
    }


def _fold_training(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    recent = list(state.get("trainings") or [])
    course = data.get("course_id")
    if any(t["course_id"] == course for t in recent):
        return  # the same completion reported again
    state["training_total"] = int(state.get("training_total", 0)) + 1
    recent.append({"at": occurred.isoformat(), "course_id": course})
    state["trainings"] = recent
    _prune(state, "trainings", TRAINING_DAYS)


def _fold_feedback(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    # Only when it happened: the text is sensitive and never enters the profile.
    state["feedback"] = [*(state.get("feedback") or []), occurred.isoformat()]
    _prune(state, "feedback", FEEDBACK_DAYS)


def _fold_project(state: dict, data: dict, occurred: datetime, tz: ZoneInfo) -> None:
    previous = state.get("project")
    if previous and _as_datetime(previous["at"]) > occurred:
        return
    name = data.get("project_name")
    if name is None and previous and previous.get("project_id") == data.get("project_id"):
        name = previous.get("project_name")  # progress reports often omit the name
    state["project"] = {
        "at": occurred.isoformat(),
        "project_id": data.get("project_id"),
        "project_name": name,
        "project_percent_done": float(data["percent_done"]),
    }


_HANDLERS = {
    "employee.hired": _fold_employee,
    "employee.updated": _fold_employee,
    "attendance.day_closed": _fold_attendance,
    "leave.taken": _fold_leave,
    "survey.response": _fold_survey,
    "performance.review": _fold_performance,
    "training.completed": _fold_training,
    "feedback.submitted": _fold_feedback,
    "project.progress": _fold_project,
}


def _prune(state: dict, key: str, days: int) -> None:
    """Keep the entries of `key` within `days` of the latest event, oldest first."""
    latest = _as_datetime(state["last_event_at"])
    items = state.get(key, [])
    keep = [i for i in items if latest - _as_datetime(_at(i)) < timedelta(days=days)]
    keep.sort(key=lambda i: _as_datetime(_at(i)))
    state[key] = keep


def _at(item: Any) -> str:
    return item["at"] if isinstance(item, dict) else item


# --- deriving facts ----------------------------------------------------------------------


def _derive_attendance(facts: dict, state: dict) -> None:
    days = {_as_date(d): v for d, v in state.get("days", {}).items()}
    if not days:
        return
    anchor = max(days)
    week = [v for d, v in days.items() if d > anchor - timedelta(days=7)]
    month = [v for d, v in days.items() if d > anchor - timedelta(days=DAYS_KEPT)]
    facts["last_attendance_day"] = anchor.isoformat()
    facts["overtime_hours_7d"] = round(sum(v["overtime"] for v in week), 4)
    facts["late_departures_7d"] = sum(1 for v in week if v["late"])
    facts["weekend_days_7d"] = sum(1 for v in week if v["weekend"])
    facts["overtime_hours_28d"] = round(sum(v["overtime"] for v in month), 4)


def _weekly_overtime(state: dict) -> list[float]:
    """Overtime per week, the latest first: 7-day blocks ending at the latest attendance day.

    Only whole weeks since the first reported day count, and a day without a report adds 0."""
    history = state.get("overtime") or {}
    since = state.get("overtime_since")
    if not history or not since:
        return []
    anchor = _ordinal(max(history))
    weeks = min(OVERTIME_WEEKS, (anchor - _ordinal(since) + 1) // 7)
    totals = [0.0] * weeks
    for day, hours in history.items():  # runs on every fold: day numbers, not dates
        week = (anchor - _ordinal(day)) // 7
        if week < weeks:
            totals[week] += hours
    return [round(t, 4) for t in totals]


def _derive_weekly_overtime(facts: dict, state: dict) -> None:
    """Recent load against the own baseline and the streak of heavy weeks, defined as the
    burnout scorer's training data defines them (scorers/features.py `company_columns`)."""
    weeks = _weekly_overtime(state)
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


def _derive_leave(facts: dict, state: dict, as_of: date) -> None:
    leave = state.get("leave")
    if leave is None:
        return
    start = as_of - timedelta(days=LEAVE_DAYS)
    taken = sum(v for d, v in leave.items() if start < _as_date(d) <= as_of)
    facts["leave_days_90d"] = round(taken, 4)


def _derive_employment(facts: dict, state: dict, last_event: str | None) -> None:
    known = {k: v["value"] for k, v in (state.get("employment") or {}).items()}
    pay, median = known.get("monthly_pay"), known.get("pay_band_median")
    if pay is not None and median:
        facts["pay_ratio"] = round(float(pay) / float(median), 4)
    for name in ("commute_km", "level", "last_promoted_on"):
        if known.get(name) is not None:
            facts[name] = known[name]
    managers = state.get("managers")
    if managers is None or not last_event:
        return
    latest = _as_datetime(last_event)
    facts["manager_changes_1y"] = sum(
        1 for before, after in itertools.pairwise(managers)
        if after["manager_id"] != before["manager_id"]
        and latest - _as_datetime(after["at"]) < timedelta(days=MANAGER_DAYS)
    )


def _derive_satisfaction(facts: dict, state: dict) -> None:
    scores = [s["score"] for s in state.get("satisfaction", [])]
    if not scores:
        return
    last = scores[-1]
    previous = scores[:-1][-5:]
    facts["satisfaction_last"] = last
    if previous:
        avg = sum(previous) / len(previous)
        facts["satisfaction_avg"] = round(avg, 4)
        facts["satisfaction_drop"] = round(avg - last, 4)
    facts["satisfaction_trend"] = round(_slope(scores[-5:]), 4)


def _derive_counts(facts: dict, state: dict, last_event: str | None) -> None:
    facts["training_completed_total"] = int(state.get("training_total", 0))
    if not last_event:
        return
    latest = _as_datetime(last_event)

    def within(items: list, days: int) -> int:
        return sum(1 for i in items if latest - _as_datetime(_at(i)) < timedelta(days=days))

    facts["training_completed_90d"] = within(state.get("trainings", []), TRAINING_DAYS)
    facts["feedback_count_30d"] = within(state.get("feedback", []), FEEDBACK_DAYS)


def _slope(ys: list[float]) -> float:
    """Least-squares slope of ys against 0, 1, 2, ...: change per survey."""
    n = len(ys)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(ys) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den


# --- values as they come from JSON or from Python ----------------------------------------


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return _parse_datetime(str(value))


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else _parse_date(str(value))


# The same few dozen ISO strings are parsed on every fold of a batch; parsing dominated.
@lru_cache(maxsize=65536)
def _parse_datetime(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@lru_cache(maxsize=65536)
def _parse_date(text: str) -> date:
    return date.fromisoformat(text[:10])


@lru_cache(maxsize=65536)
def _ordinal(text: str) -> int:
    return date.fromisoformat(text[:10]).toordinal()


def _local(value: Any, tz: ZoneInfo) -> datetime:
    """Wall-clock time in the employee's zone, naive; a value without offset already is."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.astimezone(tz).replace(tzinfo=None) if dt.tzinfo else dt


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)
