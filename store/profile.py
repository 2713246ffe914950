"""The digital profile: facts folded from events one at a time, purely.

`fold` never touches the database: ingestion loads the stored state, folds every event of a
batch in memory and writes the result once. `state` holds the raw windows (one entry per
attendance day, recent scores, dates of recent feedback); `facts` are derived from the state,
so an event that arrives late (a re-sent or corrected day, a survey answered last week) is
placed where it belongs and the windows stay right whatever the arrival order.

`fold` is `fold_state` then `derive`. A batch may fold several events of one employee and
derive only where facts are read (an event some rule matches on, and the stored row): deriving
is a pure function of the state, the employee record and the evaluation time, so the facts
come out the same.

Facts are true as of when they are read (ARCHITECTURE decision 9): `derive(..., as_of=...)`
counts tenure, the 7/28/90-day windows, the weekly streak and the 30/90/365-day counts up to
that instant (the event's time for a trigger, the scan's for a schedule). Without one, the
latest event's time: the stored row is that, and whoever reads it later derives again.

Attendance and the weekly overtime windows live in `profile_overtime`, pay, level and managers
in `profile_employment`. Everything in facts and state is plain JSON (dates as ISO strings): it
goes into a JSON column and into workflow history as the rule context.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wendu.rules.catalog import profile_defaults
from wendu.store.profile_employment import (  # noqa: F401 (public names of the profile)
    EMPLOYMENT_FACTS,
    MANAGER_DAYS,
    derive_employment,
    fold_employee,
)
from wendu.store.profile_overtime import (  # noqa: F401 (public names of the profile)
    BASELINE_MIN_WEEKS,
    DAYS_KEPT,
    LATE_AFTER,
    OVERTIME_WEEKS,
    RECENT_WEEKS,
    STREAK_FACTOR,
    STREAK_HOURS,
    derive_attendance,
    derive_weekly_overtime,
    fold_attendance,
    weekly_overtime,
)
from wendu.store.profile_values import DEFAULT_TZ, as_date, as_datetime, local_date, tz  # noqa: F401

SCORES_KEPT = 6  # the latest score plus the previous five
TRAINING_DAYS = 90
FEEDBACK_DAYS = 30
LEAVE_DAYS = 91  # 13 weeks, the window leave_days_90d was trained on

# Built once: a copy per derive is far cheaper than building it from the catalog each time.
_DEFAULTS = profile_defaults()
_FRESH = tuple(name for name, value in _DEFAULTS.items() if isinstance(value, dict))


def fold(
    facts: dict[str, Any], state: dict[str, Any], employee: dict[str, Any], event: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fold one event into the profile; returns new (facts, state), the inputs stay untouched.

    `event` is the envelope (`id`, `type`, `employee_id`, `occurred_at`) with its payload under
    `data`; `employee` is the employee record after the event was applied (may be empty for an
    employee the HRIS has not announced yet).
    """
    del facts  # facts are derived from the state; kept in the signature for symmetry
    state = fold_state(state, employee, event)
    return derive(state, employee), state


def fold_state(
    state: dict[str, Any], employee: dict[str, Any], event: dict[str, Any]
) -> dict[str, Any]:
    """The state after one event, without deriving facts; the input stays untouched."""
    # Copy-on-write: handlers replace the containers they change, never mutate them, so a
    # shallow copy keeps the caller's state intact (and is far cheaper than a deep copy).
    state = dict(state or {})
    data = event.get("data") or {}
    occurred = as_datetime(event["occurred_at"])

    latest = state.get("last_event_at")
    if latest is None or occurred > as_datetime(latest):
        state["last_event_at"] = occurred.isoformat()

    handler = _HANDLERS.get(event["type"])
    if handler:
        handler(state, data, occurred, tz(employee.get("timezone")))
    return state


def derive(
    state: dict[str, Any], employee: dict[str, Any], as_of: datetime | str | None = None
) -> dict[str, Any]:
    """The facts rules see as of `as_of` (default: the latest event), from the state and the
    employee record."""
    facts = dict(_DEFAULTS)
    for name in _FRESH:
        facts[name] = dict(_DEFAULTS[name])
    facts["employee_id"] = employee.get("id", facts["employee_id"])
    for name in ("manager_id", "hometown_city", "locale", "timezone"):
        value = employee.get(name)
        if value is not None:
            facts[name] = value

    last_event = state.get("last_event_at")
    facts["last_event_at"] = last_event
    at = (as_of.isoformat() if isinstance(as_of, datetime) else as_of) or last_event
    facts["as_of"] = at
    today = local_date(str(at), employee.get("timezone")) if at else None
    hired_on = employee.get("hired_on")
    if hired_on and today:
        facts["tenure_days"] = max(0, (today - as_date(hired_on)).days)

    day = today.isoformat() if today else None
    derive_attendance(facts, state, day)
    derive_weekly_overtime(facts, state, day)
    _derive_satisfaction(facts, state)
    _derive_counts(facts, state, at)
    derive_employment(facts, state, at)
    if today:
        _derive_leave(facts, state, today)
    # Written by score steps (activities.score_inputs), not folded from events.
    scores = state.get("scores")
    facts["scores"] = copy.deepcopy(scores) if scores else {}
    performance = state.get("performance")
    if performance:
        for name in ("performance_last", "performance_overall", "performance_weakest"):
            if name in performance:
                facts[name] = copy.deepcopy(performance[name])
    project = state.get("project")
    if project:
        for name in ("project_id", "project_name", "project_percent_done"):
            if name in project:
                facts[name] = project[name]
    return facts


# --- folding, one handler per event type -------------------------------------------------


def _fold_leave(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    """Leave by day; a re-sent day replaces the first report (0 withdraws it).

    The key exists from the first leave event on: from then on no leave is a known 0, before
    it Wendu cannot tell leave not taken from leave not reported."""
    days = data.get("days")
    leave = dict(state.get("leave") or {})
    leave[as_date(data["day"]).isoformat()] = 1.0 if days is None else float(days)
    latest = as_datetime(state["last_event_at"]).astimezone(zone).date()
    cutoff = (latest - timedelta(days=LEAVE_DAYS)).isoformat()
    state["leave"] = {d: v for d, v in sorted(leave.items()) if d > cutoff}


def _fold_survey(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    scores = [s for s in state.get("satisfaction", []) if s["survey_id"] != data.get("survey_id")]
    scores.append(
        {
            "at": occurred.isoformat(),
            "survey_id": data.get("survey_id"),
            "score": float(data["satisfaction"]),
        }
    )
    scores.sort(key=lambda s: (as_datetime(s["at"]), str(s["survey_id"])))
    state["satisfaction"] = scores[-SCORES_KEPT:]


def _fold_performance(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    previous = state.get("performance")
    if previous and as_datetime(previous["at"]) > occurred:
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


def _fold_training(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    recent = list(state.get("trainings") or [])
    course = data.get("course_id")
    if any(t["course_id"] == course for t in recent):
        return  # the same completion reported again
    state["training_total"] = int(state.get("training_total", 0)) + 1
    recent.append({"at": occurred.isoformat(), "course_id": course})
    state["trainings"] = recent
    _prune(state, "trainings", TRAINING_DAYS)


def _fold_feedback(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    # Only when it happened: the text is sensitive and never enters the profile.
    state["feedback"] = [*(state.get("feedback") or []), occurred.isoformat()]
    _prune(state, "feedback", FEEDBACK_DAYS)


def _fold_project(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    previous = state.get("project")
    if previous and as_datetime(previous["at"]) > occurred:
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


def _prune(state: dict, key: str, days: int) -> None:
    """Keep the entries of `key` within `days` of the latest event, oldest first."""
    latest = as_datetime(state["last_event_at"])
    items = state.get(key, [])
    keep = [i for i in items if latest - as_datetime(_at(i)) < timedelta(days=days)]
    keep.sort(key=lambda i: as_datetime(_at(i)))
    state[key] = keep


def _at(item: Any) -> str:
    return item["at"] if isinstance(item, dict) else item


_HANDLERS = {
    "employee.hired": fold_employee,
    "employee.updated": fold_employee,
    "attendance.day_closed": fold_attendance,
    "leave.taken": _fold_leave,
    "survey.response": _fold_survey,
    "performance.review": _fold_performance,
    "training.completed": _fold_training,
    "feedback.submitted": _fold_feedback,
    "project.progress": _fold_project,
}


# --- deriving facts ----------------------------------------------------------------------


def _derive_leave(facts: dict, state: dict, as_of: date) -> None:
    leave = state.get("leave")
    if leave is None:
        return
    start = as_of - timedelta(days=LEAVE_DAYS)
    taken = sum(v for d, v in leave.items() if start < as_date(d) <= as_of)
    facts["leave_days_90d"] = round(taken, 4)


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


def _derive_counts(facts: dict, state: dict, at: str | None) -> None:
    facts["training_completed_total"] = int(state.get("training_total", 0))
    if not at:
        return
    as_of = as_datetime(at)
    facts["training_completed_90d"] = _within(as_of, state.get("trainings"), TRAINING_DAYS)
    facts["feedback_count_30d"] = _within(as_of, state.get("feedback"), FEEDBACK_DAYS)


def _within(as_of: datetime, items: list | None, days: int) -> int:
    """Items in the `days` up to `as_of`; later ones had not happened yet at that time."""
    if not items:
        return 0
    window = timedelta(days=days)
    return sum(1 for i in items if timedelta(0) <= as_of - as_datetime(_at(i)) < window)


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
