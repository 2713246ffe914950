"""The notification policy's arithmetic: quiet hours and the recipient's local day.

Pure functions of text, an instant and a time zone, shared by the compiler (which checks what an
author wrote) and the activities (which decide when a recipient may be reached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wendu.rules.plan import Policy

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DEFAULT_TIMEZONE = "Asia/Shanghai"


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time; it may cross midnight (21:00-08:00)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_reachable(self, now: datetime, timezone: str) -> datetime:
        """`now` when outside the window, else the window's end, as an aware UTC instant."""
        zone = zone_of(timezone)
        local = now.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return now.astimezone(UTC)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)  # evening part of a window that ends tomorrow morning
        # Wall-clock arithmetic in the zone: a DST change inside the window is respected.
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)


def parse_quiet_hours(text: object) -> QuietHours | None:
    """"21:00-08:00" -> QuietHours; "", "off", None or False -> None (no quiet hours)."""
    if text is None or text is False:
        return None
    if not isinstance(text, str):
        raise PolicyError(f"quiet hours must be text like \"21:00-08:00\" or off, got {text!r}")
    if text.strip().lower() in ("", "off"):
        return None
    match = _WINDOW.fullmatch(text)
    if match is None:
        raise PolicyError(f"'{text}' is not a quiet-hours window; write it like \"21:00-08:00\" "
                          "(24-hour local time, start-end) or off")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise PolicyError(f"'{text}': hours run 00-23 and minutes 00-59")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise PolicyError(f"'{text}': the window starts and ends at the same time; use off to "
                          "disable quiet hours")
    return QuietHours(start, end)


def compile_policy(
    quiet: str | None, cap: int | str | None
) -> tuple[Policy, list[tuple[str, str]]]:
    """A rule's `policy:` as the plan keeps it, and (key, message) for each problem."""
    problems: list[tuple[str, str]] = []
    if quiet is not None:
        try:
            parse_quiet_hours(quiet)
        except PolicyError as exc:
            problems.append(("quiet_hours", str(exc)))
        quiet = "" if quiet.strip().lower() == "off" else quiet
    if isinstance(cap, str):
        if cap.strip().lower() != "off":
            problems.append(("daily_cap", f"daily_cap is a number of messages or off, got '{cap}'"))
        cap = 0
    elif cap is not None and cap < 1:
        problems.append(("daily_cap", f"daily_cap must be at least 1 (or off to send without a "
                                      f"cap), got {cap}"))
    return Policy(quiet_hours=quiet, daily_cap=cap), problems


def zone_of(name: str | None) -> ZoneInfo:
    # An unknown zone on an employee record must not stop delivery: use the company default.
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_date(instant: datetime, timezone: str | None) -> date:
    return instant.astimezone(zone_of(timezone)).date()


def parse_instant(text: str | None) -> datetime:
    """An ISO instant from a workflow (always aware), or now when absent."""
    if not text:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
