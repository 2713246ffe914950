"""Dates, durations and labels in the reader's time zone and language, as template filters.

The store and the workflows speak UTC and ISO 8601 (`2026-12-16T11:32:23.865161+00:00`); a
person reads 12月16日（周三） or Wed 16 Dec 2026, in their own time zone. The filters read the
recipient (`recipient.locale`, `recipient.timezone`) from the template's context, so a
template says only what to show:

    {{ task.due_at | local_datetime }}      2026年12月16日（周三）19:32 / Wed 16 Dec 2026, 19:32
    {{ task.due_at | local_date }}          12月16日（周三） / Wed 16 Dec 2026
    {{ hours | duration }}                  27.5 小时 / 27.5 hours
    {{ 14 | duration('days') }}             14 天 / 14 days
    {{ topic.label | label('topic') }}      工作量 / workload
    {{ f.value | fact_value(f.name) }}      4 年 5 个月 / 4 years 5 months (tenure_days)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import pass_context

from wendu.labels import is_chinese, label

DEFAULT_TIMEZONE = "Asia/Shanghai"
ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Names of the filters that turn an instant into text a person reads.
DATETIME_FILTERS = frozenset({"local_date", "local_datetime"})


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def instant(value: Any) -> datetime | date | None:
    """A datetime (aware; naive ones are UTC, as the store keeps them) or a date, from a
    datetime, a date or ISO 8601 text; None for None or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date or time: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _local(value: Any, timezone: str | None) -> datetime | date | None:
    moment = instant(value)
    if isinstance(moment, datetime):
        return moment.astimezone(zone(timezone))
    return moment


def format_date(value: Any, locale: str | None, timezone: str | None = None) -> str:
    day = _local(value, timezone)
    if day is None:
        return ""
    if is_chinese(locale):
        return f"{day.month}月{day.day}日（{ZH_WEEKDAYS[day.weekday()]}）"
    return f"{EN_WEEKDAYS[day.weekday()]} {day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def format_datetime(value: Any, locale: str | None, timezone: str | None = None) -> str:
    moment = _local(value, timezone)
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return format_date(moment, locale, timezone)
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    if is_chinese(locale):
        weekday = ZH_WEEKDAYS[moment.weekday()]
        return f"{moment.year}年{moment.month}月{moment.day}日（{weekday}）{clock}"
    return f"{format_date(moment, locale)}, {clock}"


def _number(value: float) -> str:
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _count(value: float, locale: str | None, zh: str, en: str, en_plural: str = "") -> str:
    shown = _number(value)
    if is_chinese(locale):
        return f"{shown} {zh}"
    return f"{shown} {en if shown == '1' else (en_plural or en + 's')}"


UNITS = {"minutes": ("分钟", "minute"), "hours": ("小时", "hour"), "days": ("天", "day"),
         "weeks": ("周", "week"), "months": ("个月", "month"), "years": ("年", "year")}


def format_duration(value: Any, locale: str | None, unit: str = "hours") -> str:
    """A number of `unit`s, or a timedelta in days, hours and minutes."""
    if value is None or value == "":
        return ""
    if isinstance(value, timedelta):
        return _span(value, locale)
    if unit not in UNITS:
        raise ValueError(f"duration unit {unit!r}; units: {', '.join(UNITS)}")
    return _count(float(value), locale, *UNITS[unit])


def _span(value: timedelta, locale: str | None) -> str:
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "days"), (hours, "hours")] if days else [(hours, "hours"), (mins, "minutes")]
    shown = [format_duration(n, locale, u) for n, u in parts if n]
    return " ".join(shown) or format_duration(0, locale, "minutes")


def format_tenure(days: Any, locale: str | None) -> str:
    total = int(days or 0)
    years, rest = divmod(total, 365)
    months = rest // 30
    if not years and not months:
        return format_duration(total, locale, "days")
    parts = [format_duration(years, locale, "years")] if years else []
    if months:
        parts.append(format_duration(months, locale, "months"))
    return " ".join(parts)


def format_fact(value: Any, name: str, locale: str | None) -> str:
    """A profile fact's value with its unit (`tenure_days` 1600 -> 4 年 4 个月)."""
    if value is None:
        return "暂无数据" if is_chinese(locale) else "not known"
    zh = is_chinese(locale)
    if name == "tenure_days":
        return format_tenure(value, locale)
    if name.startswith("overtime_hours") or name in ("overtime_vs_own_baseline",
                                                     "overtime_vs_team"):
        return format_duration(value, locale, "hours")
    if name in ("late_departures_7d", "weekend_days_7d", "leave_days_90d"):
        return format_duration(value, locale, "days")
    if name == "overtime_streak_weeks":
        return format_duration(value, locale, "weeks")
    if name == "years_since_promotion":
        return format_duration(value, locale, "years")
    if name.startswith("training_completed"):
        return _count(value, locale, "门课程", "course")
    if name == "manager_changes_1y":
        return _count(value, locale, "次", "change")
    if name == "pay_ratio":
        return f"{round(float(value) * 100)}%"
    if name == "project_percent_done":
        return f"{round(float(value))}%"
    if name == "commute_km":
        return f"{_number(value)} {'公里' if zh else 'km'}"
    if name.startswith(("satisfaction", "performance")) and name != "performance_weakest":
        if name in ("satisfaction_trend", "satisfaction_drop"):
            return f"{_number(value)} {'分' if zh else 'points'}"
        return f"{_number(value)}/5"
    if name == "performance_weakest":
        return label(value, "dimension", locale)
    if name == "level":
        return f"{int(value)} 级" if zh else f"level {int(value)}"
    return _number(value) if isinstance(value, int | float) else str(value)


# --- the filters ----------------------------------------------------------------------------


def reader(context: Any) -> tuple[str | None, str | None]:
    """(locale, time zone) of the message's recipient in a template context."""
    get = getattr(context, "get", None)
    recipient = get("recipient") if get is not None else None
    if not isinstance(recipient, dict):
        return None, None
    return recipient.get("locale"), recipient.get("timezone")


@pass_context
def local_date(context: Any, value: Any) -> str:
    locale, timezone = reader(context)
    return format_date(value, locale, timezone)


@pass_context
def local_datetime(context: Any, value: Any) -> str:
    locale, timezone = reader(context)
    return format_datetime(value, locale, timezone)


@pass_context
def duration(context: Any, value: Any, unit: str = "hours") -> str:
    return format_duration(value, reader(context)[0], unit)


@pass_context
def label_filter(context: Any, value: Any, kind: str) -> str:
    return label(value, kind, reader(context)[0])


@pass_context
def fact_value(context: Any, value: Any, name: str) -> str:
    return format_fact(value, str(name), reader(context)[0])


MESSAGE_FILTERS = {
    "local_date": local_date,
    "local_datetime": local_datetime,
    "duration": duration,
    "label": label_filter,
    "fact_value": fact_value,
}
