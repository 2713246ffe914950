"""The digital profile: facts folded from events one at a time, purely.

`fold` never touches the database: ingestion loads the stored (facts, state), folds every event
of a batch in memory and writes the result once. `state` holds the raw windows (one entry per
attendance day, recent scores, dates of recent feedback); `facts` are derived from the state on
every fold, so an event that arrives late (a re-sent or corrected day, a survey answered last
week) is placed where it belongs and the windows stay right whatever the arrival order.

Everything in facts and state is plain JSON (dates as ISO strings): it goes into a JSON
column and into workflow history as the rule context.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wendu.rules.catalog import profile_defaults

DAYS_KEPT = 28
SCORES_KEPT = 6  # the latest score plus the previous five
TRAINING_DAYS = 90
FEEDBACK_DAYS = 30
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
    _derive_satisfaction(facts, state)
    _derive_counts(facts, state, last_event)
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
    "attendance.day_closed": _fold_attendance,
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


def _local(value: Any, tz: ZoneInfo) -> datetime:
    """Wall-clock time in the employee's zone, naive; a value without offset already is."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.astimezone(tz).replace(tzinfo=None) if dt.tzinfo else dt


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)
