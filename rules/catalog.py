"""The event catalog and the employee profile: every name a rule may use.

The compiler checks expressions and templates against these declarations, and the API
validates incoming events with models built from them, so there is one source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, get_args, get_origin

from pydantic import Field

# Python types a field may take; the API builds pydantic models from them.
FieldType = type | Any


@dataclass(frozen=True)
class FieldSpec:
    type: Any
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class EventType:
    name: str
    doc: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # False for org-level events (none yet); every catalog event is about one employee.
    about_employee: bool = True


def _f(type_: Any, doc: str = "", required: bool = False) -> FieldSpec:
    return FieldSpec(type_, required, doc)


# Bounded numbers: a negative distance or a zero pay would score silently wrong, so the API
# refuses them and names the field instead.
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Level = Annotated[int, Field(ge=1)]
DayPart = Annotated[float, Field(ge=0, le=1)]

# What the HRIS knows about pay, commute, level and promotions. Not columns of the employee
# record: the profile folds them (store/profile.py) and the tabular scorers read them there.
# Pay itself stays in the profile's state; rules and the console see only `pay_ratio`.
EMPLOYMENT_FIELDS: dict[str, FieldSpec] = {
    "monthly_pay": _f(Positive, "Monthly base pay, in the currency of pay_band_median"),
    "pay_band_median": _f(Positive, "Median monthly base pay of the employee's pay band"),
    "commute_km": _f(NonNegative, "One-way distance from home to the workplace, km"),
    "level": _f(Level, "Job level, 1 for entry level"),
    "last_promoted_on": _f(date, "Date of the latest promotion"),
}


EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in [
        EventType(
            "employee.hired",
            "A new employee joins; creates the employee record.",
            {
                "name": _f(str, "Full name", True),
                "email": _f(str, "Work e-mail"),
                "manager_id": _f(str, "Employee id of the direct manager"),
                "hrbp_id": _f(str, "Employee id of the HR business partner"),
                "department": _f(str, "Department name"),
                "title": _f(str, "Job title"),
                "hired_on": _f(date, "First working day", True),
                "hometown_city": _f(str, "City of household registration (户籍)"),
                "work_city": _f(str, "City of the workplace"),
                "locale": _f(str, "Preferred language: zh-CN or en"),
                "timezone": _f(str, "IANA time zone, e.g. Asia/Shanghai"),
                "groups": _f(list[str], "Named groups the employee belongs to"),
                "wecom_userid": _f(str, "WeCom (企业微信) userid, for WeCom messages"),
                "preferred_channels": _f(
                    list[str], "Channels to reach the employee by, in order, e.g. [wecom, email]"
                ),
                **EMPLOYMENT_FIELDS,
            },
        ),
        EventType(
            "employee.updated",
            "Any change to the employee record; only the fields sent change.",
            {
                "name": _f(str),
                "email": _f(str),
                "manager_id": _f(str),
                "hrbp_id": _f(str),
                "department": _f(str),
                "title": _f(str),
                "hometown_city": _f(str),
                "work_city": _f(str),
                "locale": _f(str),
                "timezone": _f(str),
                "groups": _f(list[str]),
                "wecom_userid": _f(str),
                "preferred_channels": _f(list[str]),
                **EMPLOYMENT_FIELDS,
            },
        ),
        EventType(
            "employee.left",
            "The employee leaves the company.",
            {
                "left_on": _f(date, "Last working day", True),
                "reason": _f(str, "voluntary, involuntary, retirement, ..."),
            },
        ),
        EventType(
            "attendance.day_closed",
            "One closed working day from the attendance system.",
            {
                "day": _f(date, "The working day", True),
                "clock_in": _f(datetime, "Clock-in time (with offset, or local time)", True),
                "clock_out": _f(datetime, "Clock-out time (with offset, or local time)", True),
                "overtime_hours": _f(float, "Overtime hours booked that day", True),
                "weekend": _f(bool, "Whether the day was a rest day"),
            },
        ),
        EventType(
            "leave.taken",
            "One day (or part of a day) of leave, from the leave or attendance system.",
            {
                "day": _f(date, "The day of leave", True),
                "days": _f(DayPart, "Part of the day taken: 1 (the default) or 0.5; 0 withdraws "
                                    "a day reported before"),
                "kind": _f(str, "annual, sick, personal, ..."),
            },
        ),
        EventType(
            "project.progress",
            "Progress of a project the employee works on.",
            {
                "project_id": _f(str, "Project id", True),
                "project_name": _f(str, "Project name"),
                "percent_done": _f(float, "Completion, 0-100", True),
            },
        ),
        EventType(
            "survey.response",
            "A pulse or engagement survey answer.",
            {
                "survey_id": _f(str, "Survey id", True),
                "satisfaction": _f(float, "Satisfaction score, 1-5", True),
            },
        ),
        EventType(
            "feedback.submitted",
            "Free-text feedback from the employee (sensitive).",
            {
                "text": _f(str, "The feedback text", True),
                "channel": _f(str, "Where it was given: survey, 1on1, suggestion_box"),
            },
        ),
        EventType(
            "chat.message",
            "A message the employee sent to the HR assistant (sensitive).",
            {
                "text": _f(str, "The message text", True),
                "channel": _f(str, "wecom, web, ...", True),
            },
        ),
        EventType(
            "search.query",
            "A query the employee typed into the HR portal search (sensitive).",
            {"text": _f(str, "The query text", True)},
        ),
        EventType(
            "performance.review",
            "A performance review with scores per dimension (1-5).",
            {
                "period": _f(str, "Review period, e.g. 2026H1", True),
                "scores": _f(dict[str, float], "Score per dimension", True),
                "overall": _f(float, "Overall rating"),
                "reviewer_id": _f(str, "Employee id of the reviewer"),
            },
        ),
        EventType(
            "training.completed",
            "The employee completed a course.",
            {
                "course_id": _f(str, "Course id", True),
                "course_name": _f(str, "Course name"),
                "rating": _f(float, "The employee's rating of the course, 1-5"),
            },
        ),
        EventType(
            "task.completed",
            "A task (from Wendu or another system) was completed.",
            {
                "task_id": _f(str, "Task id", True),
                "outcome": _f(str, "completed, dismissed, ..."),
            },
        ),
    ]
}

# Fields every event carries besides its data; rules see them as event.<name> as well.
ENVELOPE_FIELDS: dict[str, FieldSpec] = {
    "id": _f(str, "Unique event id chosen by the producer", True),
    "type": _f(str, "Event type from the catalog", True),
    "employee_id": _f(str, "The employee the event is about", True),
    "occurred_at": _f(datetime, "When it happened", True),
}

EMPLOYEE_FIELDS: dict[str, FieldSpec] = {
    "id": _f(str, "Employee id"),
    "name": _f(str),
    "email": _f(str),
    "manager_id": _f(str),
    "hrbp_id": _f(str),
    "department": _f(str),
    "title": _f(str),
    "hired_on": _f(date),
    "left_on": _f(date),
    "active": _f(bool),
    "hometown_city": _f(str),
    "work_city": _f(str),
    "locale": _f(str),
    "timezone": _f(str),
    "groups": _f(list[str]),
    "wecom_userid": _f(str),
    "preferred_channels": _f(list[str]),
}

# The digital profile: facts folded from events, one row per employee. Every field has a
# default so a rule never meets an undefined name on an employee with little history.
# Windows and dates count to `as_of`: the event's time for a trigger, the scan's for a
# schedule (store/profile.py); "today" is its date in the employee's zone.
PROFILE_FIELDS: dict[str, tuple[Any, Any, str]] = {
    "employee_id": (str, None, "Employee id"),
    "manager_id": (str, None, "Direct manager's employee id"),
    "hometown_city": (str, None, "City of household registration"),
    "locale": (str, "zh-CN", "Preferred language"),
    "timezone": (str, "Asia/Shanghai", "IANA time zone"),
    "tenure_days": (int, 0, "Days since hired_on, as of as_of"),
    "overtime_hours_7d": (
        float, 0.0, "Overtime hours in the 7 days ending today (yesterday until today closed)"
    ),
    "late_departures_7d": (int, 0, "Days in the last 7 with clock-out after 21:00 local"),
    "weekend_days_7d": (int, 0, "Rest days worked in the last 7"),
    "overtime_hours_28d": (float, 0.0, "Overtime hours in the last 28 days"),
    "last_attendance_day": (date, None, "Latest closed attendance day"),
    "satisfaction_last": (float, None, "Latest survey satisfaction (1-5)"),
    "satisfaction_avg": (float, None, "Mean of the previous (up to 5) satisfaction scores"),
    "satisfaction_trend": (float, 0.0, "Slope of the last (up to 5) satisfaction scores"),
    "satisfaction_drop": (float, 0.0, "satisfaction_avg minus satisfaction_last"),
    "performance_last": (dict[str, float], {}, "Latest performance scores by dimension"),
    "performance_overall": (float, None, "Latest overall performance rating"),
    "performance_weakest": (str, None, "Dimension with the lowest latest score"),
    "training_completed_90d": (int, 0, "Courses completed in the last 90 days"),
    "training_completed_total": (int, 0, "Courses completed in all"),
    "feedback_count_30d": (int, 0, "Feedback items submitted in the last 30 days"),
    "project_id": (str, None, "Latest project reported for the employee"),
    "project_name": (str, None, "Its name"),
    "project_percent_done": (float, None, "Its completion, 0-100"),
    # From employee.hired / employee.updated; None until an event has carried them.
    "pay_ratio": (float, None, "Monthly pay over the pay band's median"),
    "commute_km": (float, None, "One-way commute, km"),
    "level": (int, None, "Job level"),
    "last_promoted_on": (date, None, "Date of the latest promotion"),
    "manager_changes_1y": (
        int, None,
        "Manager changes in the 365 days before as_of; None until an employee "
        "event was seen",
    ),
    # Weekly attendance: blocks of 7 days ending where the 7-day window ends, so the last 4
    # weeks are the 28-day window.
    "overtime_vs_own_baseline": (
        float, None,
        "Mean weekly overtime of the last 4 weeks minus that of the weeks before them (up to "
        "22); None until 4 such weeks are known",
    ),
    "overtime_streak_weeks": (
        int, None,
        "Weeks in a row, ending with the latest, over 8 h and over 1.5x the own baseline",
    ),
    "leave_days_90d": (
        float, None,
        "Leave days in the 13 weeks ending today; None until a leave was reported",
    ),
    "last_event_at": (datetime, None, "When the latest event occurred"),
    "as_of": (datetime, None, "When these facts were read: the event's or the scan's time"),
    "scores": (
        dict[str, dict], {},
        "Latest result of each scorer: scores.<scorer>.value, label, model_version, at",
    ),
}


def profile_defaults() -> dict[str, Any]:
    return {
        name: (dict(default) if isinstance(default, dict) else default)
        for name, (_, default, _) in PROFILE_FIELDS.items()
    }


def numeric_fields(event_type: EventType) -> list[str]:
    """Its int and float fields, plain or bounded (`Positive`), never bool: what an impact
    metric (`<event type>.<field>`) may measure."""
    return [name for name, spec in event_type.fields.items() if _is_number(spec.type)]


def _is_number(kind: Any) -> bool:
    if get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    return kind in (int, float)


def event_field_names(event_type: str) -> set[str]:
    return set(EVENT_TYPES[event_type].fields) | set(ENVELOPE_FIELDS)


# Roles a recipient or assignee may name; `group:<name>` names a group of employees.
ROLES: dict[str, str] = {
    "employee": "The employee the rule fired for",
    "manager": "Their direct manager",
    "skip_manager": "Their manager's manager",
    "hrbp": "Their HR business partner",
}
GROUP_PREFIX = "group:"

CHANNELS: dict[str, str] = {
    "inapp": "The in-app inbox (GET /api/v1/notifications)",
    "wecom": "WeCom (企业微信) app message to the recipient's wecom_userid",
    "email": "E-mail over SMTP to the recipient's address",
    "webhook": "A signed JSON POST to the configured webhook (Feishu/DingTalk/Slack bridges)",
    "preferred": "The recipient's own preferred_channels (the in-app inbox when they have none)",
}

# Scorers fast and pure enough to run at ingest, for every event of a batch at once, so a rule's
# `when` may read `score.<name>` and nothing starts for an event that does not need it. Each
# reads the event's own text (the event type needs a `text` field) or the profile alone; a test
# keeps this in step with the scorers' own `fast` declaration (scorers.registry).
FAST_SCORERS: dict[str, str] = {
    "intent": "text",
    "sentiment": "text",
    "topics": "text",
    "attrition": "profile",
}
