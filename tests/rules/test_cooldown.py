"""`cooldown:` in the rule language: a duration per employee, checked where it is written."""

from __future__ import annotations

import pytest

from wendu.rules.compiler import compile_text, plan_digest


def with_cooldown(rule, value: str) -> str:
    text = rule()
    return text.replace("\nsteps:", f"\ncooldown: {value}\nsteps:", 1)


def test_a_cooldown_compiles_to_seconds_and_into_the_digest(rule):
    plan = compile_text(with_cooldown(rule, "7d"), "r.yaml")
    assert plan.cooldown_seconds == 7 * 86400
    plain = compile_text(rule(), "r.yaml")
    assert plain.cooldown_seconds is None
    # A rule without one keeps the digest it had; setting one makes a new version.
    assert "cooldown_seconds" not in plain.model_dump(mode="json")
    assert plan_digest(plan) != plan_digest(plain)


@pytest.mark.parametrize(("value", "message"), [
    ("soon", "r.yaml:8:11: error: 'soon' is not a duration; write it like 90s, 30m, 2h, 1d, "
             "1w, 1d12h or ISO-8601 P2D, PT4H"),
    ("P1M", "r.yaml:8:11: error: 'P1M': years and months vary in length; use days (e.g. P30D)"),
    ("400d", "r.yaml:8:11: error: cooldown 400d is longer than a year: the rule would stay "
             "silent for people it matches; shorten it or disable the rule"),
])
def test_a_bad_cooldown_is_named_where_it_is_written(rule, problems, value, message):
    assert problems(with_cooldown(rule, value)) == [message]


def test_the_library_overtime_rule_cools_down_for_a_week(repo):
    plan = compile_text((repo / "rules/library/overtime_care.yaml").read_text("utf-8"))
    assert plan.cooldown_seconds == 7 * 86400


def test_a_schedule_rule_is_told_its_dedupe_key_sets_how_often(rule, problems):
    text = with_cooldown(rule, "28d").replace(
        "{event: attendance.day_closed}", '{schedule: "0 9 * * MON"}').replace(
        "  - profile.overtime_hours_7d > 20\n", "").replace("when:\n", "").replace(
        "event.day | iso_week", "schedule.fire_time | iso_week")
    assert problems(text) == [
        "r.yaml:6:11: error: cooldown applies to event rules only: a schedule rule fires at "
        "most once per scan and dedupe key; key it by a longer period (e.g. schedule.fire_time "
        "| iso_week) to fire less often"]
