import jinja2
import pytest

from wendu.rules import expressions
from wendu.rules.compiler import compile_text
from wendu.rules.matcher import (
    EvaluationError,
    MatchError,
    RuleIndex,
    matches_for_schedule,
)
from wendu.rules.ruleset import EXAMPLES_DIR, load_ruleset


@pytest.fixture(scope="module")
def examples():
    return {p.rule_id: p for p in load_ruleset([EXAMPLES_DIR]).plans}


def context(**profile):
    return {
        "event": {
            "id": "ev1",
            "type": "attendance.day_closed",
            "employee_id": "u1",
            "occurred_at": "2026-11-27T22:00:00+08:00",
            "day": "2026-11-27",
            "overtime_hours": 4.0,
        },
        "employee": {"id": "u1", "name": "李雷"},
        "profile": {"overtime_hours_7d": 10.0, "late_departures_7d": 0, **profile},
    }


def test_rules_are_indexed_by_trigger_event(examples):
    index = RuleIndex(examples.values())
    assert index.event_types == ["attendance.day_closed", "survey.response"]
    assert [p.rule_id for p in index.rules_for("survey.response")] == ["satisfaction-checkin"]
    assert [p.rule_id for p in index.schedules] == ["weekly-attrition-scan"]
    assert index.match("chat.message", context()).matches == []


def test_match_renders_the_dedupe_key_and_explains_why(examples):
    index = RuleIndex(examples.values())
    assert list(index.match("attendance.day_closed", context())) == []
    result = index.match("attendance.day_closed", context(overtime_hours_7d=23.5))
    (match,) = result
    assert result.errors == []
    assert match.plan.rule_id == "overtime-care"
    assert match.dedupe_key == "u1/2026-W48"
    assert match.workflow_id == "rule/overtime-care/u1/2026-W48"
    condition = "profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5"
    assert match.matched == [(condition, True)]
    assert match.values == {"profile.overtime_hours_7d": 23.5, "profile.late_departures_7d": 0}
    assert match.why == (
        f"overtime-care v1: {condition} "
        "(profile.overtime_hours_7d=23.5, profile.late_departures_7d=0)"
    )


def test_disabled_rules_never_match(examples, rule):
    disabled = compile_text(rule().replace("version: 1", "version: 1\nenabled: false"))
    index = RuleIndex([disabled])
    assert index.rules_for("attendance.day_closed") == []
    assert len(index) == 0


def test_one_failing_rule_does_not_hide_the_others(examples, rule):
    fragile = compile_text(rule(when='["event.weekend"]').replace("test-rule", "fragile"))
    index = RuleIndex([fragile, examples["overtime-care"]])
    result = index.match("attendance.day_closed", context(overtime_hours_7d=30))
    assert [m.plan.rule_id for m in result] == ["overtime-care"]
    assert result.errors == [
        MatchError("fragile", "when[0] `event.weekend`: 'dict object' has no attribute 'weekend'")
    ]


def test_rule_name_is_per_rule_in_a_shared_context(rule):
    plans = [
        compile_text(rule(when=f"[\"rule.id == '{name}'\"]").replace("test-rule", name))
        for name in ("first", "second")
    ]
    result = RuleIndex(plans).match("attendance.day_closed", context())
    assert [m.plan.rule_id for m in result] == ["first", "second"]


def test_matching_compiles_nothing_per_event(examples, monkeypatch):
    index = RuleIndex([examples["overtime-care"]] * 50)
    index.match("attendance.day_closed", context(overtime_hours_7d=30))  # warm the caches

    def refuse(*args, **kwargs):
        raise AssertionError("compiled a template while matching")

    monkeypatch.setattr(expressions.ENV, "from_string", refuse)
    monkeypatch.setattr(expressions.ENV, "compile_expression", refuse)
    assert len(index.match("attendance.day_closed", context(overtime_hours_7d=30))) == 50


def test_schedule_rules_match_per_employee(examples):
    plan = examples["weekly-attrition-scan"]
    ctx = {
        "schedule": {"fire_time": "2026-11-30T09:00:00+08:00"},
        "employee": {"id": "u7"},
        "profile": {"overtime_hours_28d": 61.0},
    }
    match = matches_for_schedule(plan, ctx)
    assert match is not None and match.dedupe_key == "u7/2026-W49"
    assert matches_for_schedule(plan, {**ctx, "profile": {"overtime_hours_28d": 10}}) is None
    with pytest.raises(EvaluationError) as exc:
        matches_for_schedule(plan, {**ctx, "profile": {}})
    assert exc.value.rule_id == "weekly-attrition-scan"


def test_a_condition_without_a_value_is_an_error_not_a_quiet_false(rule):
    # `a if c` without else yields Jinja's Undefined when c is false; using it is an error.
    plan = compile_text(rule(when="[\"'yes' if profile.overtime_hours_7d > 100\"]"))
    result = RuleIndex([plan]).match("attendance.day_closed", context(overtime_hours_7d=30))
    (error,) = result.errors
    assert result.matches == []
    assert error.message.startswith("when[0] `'yes' if profile.overtime_hours_7d > 100`: ")
    assert "no else section was defined" in error.message


def test_the_dedupe_key_renders_without_jinja_and_as_jinja_would(rule, monkeypatch):
    plan = compile_text(rule(dedupe='"{{ employee.id }}/{{ employee.manager_id }}"'))
    assert expressions.compiled_template(plan.dedupe.source) is not None
    index = RuleIndex([plan])

    def refuse(*args, **kwargs):
        raise AssertionError("rendered a Jinja template while matching")

    monkeypatch.setattr(jinja2.Template, "render", refuse)
    ctx = context(overtime_hours_7d=30)
    ctx["employee"]["manager_id"] = None
    (match,) = index.match("attendance.day_closed", ctx)
    assert match.dedupe_key == "u1/None"  # what Jinja renders for None
    monkeypatch.undo()
    jinja_key = jinja2.Template(plan.dedupe.source).render(**ctx)
    assert jinja_key == match.dedupe_key


def test_a_rule_reads_its_later_conditions_only_when_the_earlier_hold(rule):
    # Short-circuit across `when` items: the second is never evaluated, so it cannot fail.
    plan = compile_text(rule(when='["profile.overtime_hours_7d > 100", "event.weekend"]'))
    result = RuleIndex([plan]).match("attendance.day_closed", context(overtime_hours_7d=30))
    assert (result.matches, result.errors) == ([], [])
    result = RuleIndex([plan]).match("attendance.day_closed", context(overtime_hours_7d=300))
    assert [e.message.split(":")[0] for e in result.errors] == ["when[1] `event.weekend`"]


def test_a_dedupe_key_that_reads_the_rule_is_rendered_for_each_rule(rule):
    # Keys of one template are rendered once per event, unless they read what changes per rule.
    shared = rule(dedupe='"{{ employee.id }}/{{ event.day | iso_week }}"')
    per_rule = rule(dedupe='"{{ employee.id }}/{{ rule.id }}"')
    plans = [
        compile_text(text.replace("test-rule", name))
        for name, text in (("a", shared), ("b", shared), ("c", per_rule), ("d", per_rule))
    ]
    result = RuleIndex(plans).match("attendance.day_closed", context(overtime_hours_7d=30))
    assert [m.dedupe_key for m in result] == ["u1/2026-W48", "u1/2026-W48", "u1/c", "u1/d"]
