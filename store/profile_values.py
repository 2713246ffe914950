"""Values as they come from JSON or from Python, for the profile fold.

State and facts hold dates as ISO strings; producers in the same process may pass dates and
datetimes. The same few dozen strings are parsed on every fold of a batch, so parsing is cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Shanghai"


def as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_datetime(str(value))


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else parse_date(str(value))


def iso_day(value: Any) -> str:
    """'2026-01-05' for a date, a datetime or an ISO string: the key the day windows use."""
    return day_key(value) if isinstance(value, str) else as_date(value).isoformat()


@lru_cache(maxsize=65536)
def day_key(text: str) -> str:
    return parse_date(text).isoformat()


@lru_cache(maxsize=65536)
def parse_datetime(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@lru_cache(maxsize=65536)
def parse_date(text: str) -> date:
    return date.fromisoformat(text[:10])


@lru_cache(maxsize=65536)
def ordinal(text: str) -> int:
    return date.fromisoformat(text[:10]).toordinal()


@lru_cache(maxsize=65536)
def days_before(day: str, days: int) -> str:
    """The ISO date `days` before the ISO date `day`: windows compare ISO strings, which sort
    as the dates they name."""
    return date.fromordinal(ordinal(day) - days).isoformat()


@lru_cache(maxsize=65536)
def local_date(text: str, zone: str | None) -> date:
    """The date in the employee's zone of an ISO instant (the profile's 'as of' day)."""
    return parse_datetime(text).astimezone(tz(zone)).date()


def local(value: Any, zone: ZoneInfo) -> datetime:
    """Wall-clock time in the employee's zone, naive; a value without offset already is."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.astimezone(zone).replace(tzinfo=None) if dt.tzinfo else dt


@lru_cache(maxsize=1024)
def tz(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)
