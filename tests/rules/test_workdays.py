"""Working days of the China calendar: holidays, make-up workdays, and the fallback beyond it."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from wendu.rules.workdays import (
    add_working_time,
    after_holidays,
    before_working_time,
    is_public_holiday,
    is_workday,
)

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def test_the_calendar_knows_holidays_and_make_up_workdays() -> None:
    assert not is_workday(date(2026, 10, 1))  # National Day
    assert is_workday(date(2026, 10, 10))  # a Saturday worked in exchange (调休)
    assert not is_workday(date(2026, 11, 21))  # an ordinary Saturday
    assert is_public_holiday(date(2026, 10, 3)) and not is_public_holiday(date(2026, 11, 21))
    assert not is_public_holiday(date(2026, 2, 14))  # Spring Festival's make-up Saturday
    assert is_workday(date(2026, 11, 21), "off") and not is_workday(date(2026, 11, 21), "mon-fri")


def test_three_days_set_before_national_day_are_due_after_it() -> None:
    # Tuesday 29 September: the 30th counts, 1-7 October are off, then 8 and 9 October.
    due = add_working_time(at(2026, 9, 29), 3 * DAY)
    days = [date(2026, 9, 30) + timedelta(days=i) for i in range(20)]
    working = [d for d in days if is_workday(d)]
    assert due == datetime.combine(working[2], time(10), SH)
    assert due == at(2026, 10, 9)


def test_a_friday_task_due_in_one_day_is_due_on_monday_and_reminded_on_friday() -> None:
    due = add_working_time(at(2026, 11, 20), DAY)  # Friday
    assert due == at(2026, 11, 23)  # Monday, same hour
    assert before_working_time(due, DAY) == at(2026, 11, 20)  # not on Sunday
    assert before_working_time(due, 4 * 3600) == at(2026, 11, 23, 6)  # hours stay hours


def test_hours_count_as_hours_and_a_day_off_moves_to_the_next_working_day() -> None:
    assert add_working_time(at(2026, 11, 18), 4 * 3600) == at(2026, 11, 18, 14)
    assert add_working_time(at(2026, 11, 20, 22), 4 * 3600) == at(2026, 11, 23, 2)
    assert add_working_time(at(2026, 11, 20), 3 * DAY, "off") == at(2026, 11, 23)
    assert add_working_time(at(2026, 11, 20), DAY, "mon-fri") == at(2026, 11, 23)


def test_beyond_the_calendars_data_it_counts_weekdays_and_fixed_holidays(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        assert not is_workday(date(2031, 10, 2))  # National Day is a fixed date
        assert not is_workday(date(2031, 1, 4))  # a Saturday
        assert is_workday(date(2031, 1, 6))
    assert "no data for 2031" in caplog.text and "Monday to Friday" in caplog.text
    assert add_working_time(datetime(2031, 9, 30, 10, tzinfo=SH), DAY) == \
        datetime(2031, 10, 6, 10, tzinfo=SH)  # 1-3 October off, then the weekend


@pytest.mark.parametrize(("when", "expected"), [
    (at(2026, 10, 2, 9), at(2026, 10, 8, 8)),  # held to the first morning after 1-7 October
    (at(2026, 11, 21, 9), at(2026, 11, 21, 9)),  # a weekend is no public holiday
    (at(2026, 10, 9, 9), at(2026, 10, 9, 9)),
])
def test_quiet_hours_hold_through_a_public_holiday(when, expected) -> None:
    assert after_holidays(when, time(8), SH) == expected
    assert after_holidays(when, time(8), SH, "mon-fri") == when
