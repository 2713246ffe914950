"""Time as rule authors write it: durations (`1d12h`, `PT4H`), cron strings, time zones, dates."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_SHORT = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_HINT = "write it like 90s, 30m, 2h, 1d, 1w, 1d12h or ISO-8601 P2D, PT4H"


class DurationError(ValueError):
    pass


def parse_duration(text: object) -> int:
    """Seconds in `text`; raise DurationError with a message an author can act on."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise DurationError(f"a duration must be text ({_HINT}), got {text!r}")
    raw = text.strip()
    upper = raw.upper()
    if upper.startswith("P") and re.search(r"\d+[YM]", upper.split("T")[0]):
        raise DurationError(f"'{text}': years and months vary in length; use days (e.g. P30D)")
    match = _SHORT.fullmatch(raw.lower()) or _ISO.fullmatch(upper)
    if not raw or match is None or not any(match.groups()):
        raise DurationError(f"'{text}' is not a duration; {_HINT}")
    seconds = sum(int(g) * s for g, s in zip(match.groups(), _UNITS.values(), strict=True) if g)
    if seconds <= 0:
        raise DurationError(f"'{text}' must be longer than zero")
    return seconds


def format_duration(seconds: int) -> str:
    """The short form, for messages: 129600 -> '1d12h'."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        if unit == "w":
            continue
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def cron_problem(expr: object) -> str | None:
    """None when `expr` is a valid five-field cron string, else why it is not."""
    if not isinstance(expr, str):
        return f"a schedule must be a cron string like \"0 9 * * MON\", got {expr!r}"
    fields = expr.split()
    if len(fields) != 5:
        return (
            f"'{expr}' has {len(fields)} fields; a schedule needs 5: "
            "minute hour day-of-month month day-of-week, e.g. \"0 9 * * MON\""
        )
    if not croniter.is_valid(expr):
        return f"'{expr}' is not a valid cron schedule (minute hour day-of-month month day-of-week)"
    return None


def timezone_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return f"a time zone must be an IANA name like Asia/Shanghai, got {name!r}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone '{name}'; use an IANA name like Asia/Shanghai or Europe/Berlin"
    return None


def to_date(value: Any) -> date:
    """A date from a date, a datetime or an ISO string ('2026-11-27', '2026-11-27T09:00Z')."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 10:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return date.fromisoformat(text)
    raise ValueError(f"expected a date or an ISO date string, got {value!r}")


def iso_week(value: Any) -> str:
    """'2026-11-27' -> '2026-W48': the ISO year and week, for weekly dedupe keys."""
    year, week, _ = to_date(value).isocalendar()
    return f"{year}-W{week:02d}"
