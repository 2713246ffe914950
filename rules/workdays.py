"""Working days: the China calendar with its public holidays and make-up workdays (调休).

Due dates, reminders and escalation windows of tasks count working days, so "due in 3 days"
set on the Friday before National Day is due after the holiday, and a Saturday that is a
make-up workday counts. The calendar comes from the `chinese-calendar` package, which ships
its data (nothing is fetched at run time) but only for the years the State Council has
published, each added to it around December. For a later year Wendu falls back to Monday to
Friday without the holidays whose dates vary (Spring Festival, Qingming, Dragon Boat,
Mid-Autumn), keeping the fixed-date ones (1 January, 1-2 May, 1-3 October), and says so once
in the log: upgrade the package when the next year's schedule is out.

Days are China's days (Asia/Shanghai). `kind` is the site's choice (`WENDU_WORK_CALENDAR`):
`cn` the China calendar, `mon-fri` plain weekdays, `off` calendar days (as before working days
were counted). Pure functions: they run in activities, whose results the workflows record.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
KINDS = ("cn", "mon-fri", "off")
DAY = 86400
# Statutory holidays on fixed dates (国务院《全国年节及纪念日放假办法》, 2025 revision).
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


@lru_cache(maxsize=64)
def _covered(year: int) -> bool:
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        log.warning("the China calendar has no data for %s: counting Monday to Friday and the "
                    "fixed-date holidays; upgrade chinese-calendar for that year's schedule",
                    year)
        return False
    return True


def is_public_holiday(day: date, kind: str = "cn") -> bool:
    """A statutory holiday (the days off of a holiday period), not an ordinary weekend."""
    if kind != "cn":
        return False
    if _covered(day.year):
        import chinese_calendar

        off, name = chinese_calendar.get_holiday_detail(day)
        return bool(off and name)
    return (day.month, day.day) in FIXED_HOLIDAYS


def is_workday(day: date, kind: str = "cn") -> bool:
    if kind == "off":
        return True
    if kind == "cn" and _covered(day.year):
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5 and not is_public_holiday(day, kind)


def _roll(at: datetime, kind: str, step: int) -> datetime:
    """`at`, moved a whole day at a time (forward for step 1) until it is on a working day."""
    local = at.astimezone(CHINA)
    for _ in range(60):  # the longest holiday period is 8 days; this bounds a bad calendar
        if is_workday(local.date(), kind):
            break
        local += timedelta(days=step)
    return local


def add_working_time(start: datetime, seconds: int, kind: str = "cn") -> datetime:
    """`seconds` after `start`, whole days counted as working days (at the same clock time),
    the rest as hours; a result on a day off moves to the next working day, same time."""
    if kind == "off" or seconds <= 0:
        return start + timedelta(seconds=max(seconds, 0))
    days, rest = divmod(int(seconds), DAY)
    local = start.astimezone(CHINA)
    while days:
        local += timedelta(days=1)
        if is_workday(local.date(), kind):
            days -= 1
    return _roll(local + timedelta(seconds=rest), kind, 1).astimezone(start.tzinfo)


def before_working_time(due: datetime, seconds: int, kind: str = "cn") -> datetime:
    """`seconds` before `due` counted the same way backwards: a reminder "1 day before" a
    Monday due time comes on the Friday before, not on the Sunday."""
    if kind == "off" or seconds <= 0:
        return due - timedelta(seconds=max(seconds, 0))
    days, rest = divmod(int(seconds), DAY)
    local = due.astimezone(CHINA)
    while days:
        local -= timedelta(days=1)
        if is_workday(local.date(), kind):
            days -= 1
    return _roll(local - timedelta(seconds=rest), kind, -1).astimezone(due.tzinfo)


def after_holidays(at: datetime, opens: time, zone: ZoneInfo, kind: str = "cn") -> datetime:
    """`at`, or when the public holiday it falls in is over: `opens` (the end of quiet hours)
    on the first local day after it that is no public holiday."""
    local = at.astimezone(zone)
    if not is_public_holiday(local.date(), kind):
        return at
    day = local.date()
    while is_public_holiday(day, kind):
        day += timedelta(days=1)
    return datetime.combine(day, opens, zone).astimezone(at.tzinfo)
