"""`max_age:` in a rule: a duration or off, for event rules only, errors at file:line:col."""

from __future__ import annotations

import pytest

from wendu.rules.compiler import check, compile_text
from wendu.rules.errors import RuleErrors
from wendu.rules.loader import load
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import EXAMPLES_DIR

OVERTIME = (EXAMPLES_DIR / "overtime_care.yaml").read_text(encoding="utf-8")
SCAN = (EXAMPLES_DIR / "weekly_attrition_scan.yaml").read_text(encoding="utf-8")


def with_max_age(text: str, value: str) -> str:
    return text.replace("\nsteps:", f"\nmax_age: {value}\nsteps:", 1)


@pytest.mark.parametrize(("value", "seconds", "stale_at_5d"),
                         [("12h", 43200, True), ("P7D", 604800, False), ("off", 0, False)])
def test_max_age_compiles_to_seconds_and_off_to_no_window(value, seconds, stale_at_5d):
    plan = compile_text(with_max_age(OVERTIME, value))
    assert plan.max_age_seconds == seconds
    # The rule's own window, not the site's 3 days, decides.
    stale = RuleIndex([plan], max_age=3 * 86400).stale_for("attendance.day_closed", 5 * 86400)
    assert stale == ([plan.rule_id] if stale_at_5d else [])


def test_unset_it_keeps_the_digest_and_takes_the_site_default():
    plan = compile_text(OVERTIME)
    assert plan.max_age_seconds is None
    assert "max_age_seconds" not in plan.model_dump()
    assert RuleIndex([plan], max_age=3600).stale_for("attendance.day_closed", 7200) == [
        plan.rule_id]
    assert RuleIndex([plan]).stale_for("attendance.day_closed", 10**9) == []


def test_a_bad_max_age_and_one_on_a_schedule_rule_are_errors_at_their_line():
    text = with_max_age(OVERTIME, "soon")
    line = text.splitlines().index("max_age: soon") + 1
    with pytest.raises(RuleErrors) as exc:
        compile_text(text, "r.yaml")
    assert str(exc.value.problems[0]).startswith(f"r.yaml:{line}:10: error: max_age: 'soon' is "
                                                 "not a duration")
    result = check(load(with_max_age(SCAN, "3d"), "scan.yaml"))
    assert [p.message for p in result.errors] == [
        "max_age applies to event rules only: a schedule rule has no triggering event to be "
        "too old"]
