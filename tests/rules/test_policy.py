"""The notification policy: `policy:` in a rule, its errors, and the quiet-hours arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from wendu.rules import plan as p
from wendu.rules.compiler import check, compile_text
from wendu.rules.loader import load
from wendu.rules.policy import PolicyError, parse_quiet_hours
from wendu.settings import Settings


def test_a_rule_policy_is_compiled_into_the_plan(rule):
    plan = compile_text(rule() + 'policy: {quiet_hours: "22:00-07:00", daily_cap: 3}\n')
    assert plan.policy == p.Policy(quiet_hours="22:00-07:00", daily_cap=3)


def test_off_disables_each_part_and_unset_parts_follow_the_settings(rule):
    plan = compile_text(rule() + "policy: {quiet_hours: off}\n")
    assert plan.policy == p.Policy(quiet_hours="", daily_cap=None)
    plan = compile_text(rule() + "policy: {daily_cap: off}\n")
    assert plan.policy == p.Policy(quiet_hours=None, daily_cap=0)


def test_a_rule_without_policy_keeps_its_digest(rule):
    plan = compile_text(rule())
    assert plan.policy is None
    assert "policy" not in plan.model_dump()
    assert compile_text(rule() + "policy: {daily_cap: 2}\n").digest != plan.digest


@pytest.mark.parametrize(("policy", "expected"), [
    ('{quiet_hours: "9pm-8am"}',
     "r.yaml:10:23: error: '9pm-8am' is not a quiet-hours window; write it like "
     "\"21:00-08:00\" (24-hour local time, start-end) or off"),
    ('{quiet_hours: "21:00-24:00"}',
     "r.yaml:10:23: error: '21:00-24:00': hours run 00-23 and minutes 00-59"),
    ('{quiet_hours: "08:00-08:00"}',
     "r.yaml:10:23: error: '08:00-08:00': the window starts and ends at the same time; use off "
     "to disable quiet hours"),
    ("{daily_cap: 0}",
     "r.yaml:10:21: error: daily_cap must be at least 1 (or off to send without a cap), got 0"),
    ("{daily_cap: lots}",
     "r.yaml:10:21: error: daily_cap is a number of messages or off, got 'lots'"),
    ("{quiet_hours: true}", "r.yaml:10:23: error: 'quiet_hours': write a value or off, not true"),
    ("{quite_hours: off}",
     "r.yaml:10:10: error: unknown key 'quite_hours'; did you mean 'quiet_hours'?"),
])
def test_a_malformed_policy_is_an_error_at_its_value(rule, policy, expected):
    result = check(load(rule() + f"policy: {policy}\n", "r.yaml"))
    assert result.plan is None
    assert [str(x) for x in result.problems] == [expected]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("now", "zone", "reachable"), [
    # 23:00 in Shanghai (UTC+8) -> 08:00 the next morning there.
    ("2026-11-26T15:00", "Asia/Shanghai", "2026-11-27T00:00"),
    # 03:00 in Shanghai: the same morning's 08:00.
    ("2026-11-26T19:00", "Asia/Shanghai", "2026-11-27T00:00"),
    # 16:00 in Berlin: outside, reachable at once.
    ("2026-11-26T15:00", "Europe/Berlin", "2026-11-26T15:00"),
    # 22:00 in Berlin the night summer time ends (UTC+2 -> +1): 08:00 CET is 07:00 UTC.
    ("2026-10-24T20:00", "Europe/Berlin", "2026-10-25T07:00"),
])
def test_quiet_hours_end_in_the_recipients_own_time_zone(now, zone, reachable):
    window = parse_quiet_hours("21:00-08:00")
    assert window.next_reachable(_utc(now), zone) == _utc(reachable)


def test_a_window_within_one_day():
    window = parse_quiet_hours("12:00-13:30")
    assert window.next_reachable(_utc("2026-11-26T04:15"), "Asia/Shanghai") == _utc(
        "2026-11-26T05:30")
    assert parse_quiet_hours("") is None and parse_quiet_hours("off") is None


def test_settings_refuse_a_malformed_window():
    with pytest.raises(ValidationError, match="not a quiet-hours window"):
        Settings(quiet_hours="late")
    with pytest.raises(ValidationError, match="daily_cap"):
        Settings(daily_cap=-1)
    with pytest.raises(PolicyError):
        parse_quiet_hours(9)
