from datetime import date

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from wendu.rules.expressions import (
    ENV,
    Evaluation,
    Obj,
    Scope,
    check_expression,
    check_template,
    compile_condition,
    evaluate,
    referenced_fields,
    render,
    template_names,
)

PROFILE = Obj("profile", dict.fromkeys(["overtime_hours_7d", "late_departures_7d", "groups"]))
SCOPE = Scope(
    {
        "profile": PROFILE,
        "event": Obj("event (attendance.day_closed)", {"day": None, "overtime_hours": None}),
        "employee": Obj("employee", {"id": None, "name": None}),
        "risk": Obj("risk", dict.fromkeys(["value", "label", "factors", "model_version"])),
    },
    {"schedule": "only schedule rules have 'schedule'"},
)


def messages(src, scope=SCOPE, template=False):
    found = (check_template if template else check_expression)(src, scope)
    return [(p.line, p.col, p.message) for p in found]


def test_valid_expressions_have_no_problems():
    assert messages("profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5") == []
    assert messages("risk.value > 0.7 and risk.factors | length > 0") == []
    assert messages("event.day | iso_week") == []
    assert messages("event.weekend is defined") == [
        (
            1,
            7,
            "event (attendance.day_closed) has no field 'weekend'; its fields: day, overtime_hours",
        )
    ]


def test_syntax_error_has_a_column():
    assert messages("profile.overtime_hours_7d > > 3") == [(1, 29, "unexpected '>'")]
    assert messages("profile.overtime_hours_7d >") == [(1, 28, "the expression ends too early")]
    assert messages("risk.value 3") == [
        (1, 12, "unexpected '3'; is an operator (and, or, ==) missing?")
    ]
    assert messages("'open") == [(1, 1, "a quoted text is not closed")]
    assert messages("") == [(1, 1, "the expression is empty")]


def test_unknown_name_suggests_or_lists_names():
    assert messages("profil.overtime_hours_7d > 1") == [
        (1, 1, "unknown name 'profil'; did you mean 'profile'?")
    ]
    assert messages("1 < zzz") == [
        (1, 5, "unknown name 'zzz'; names here: employee, event, profile, risk")
    ]


def test_misspelled_profile_field_suggests_the_right_one():
    assert messages("profile.overtime_hour_7d > 20") == [
        (1, 9, "profile has no field 'overtime_hour_7d'; did you mean 'overtime_hours_7d'?")
    ]
    assert messages("profile['late_departure_7d'] > 1")[0][2].startswith(
        "profile has no field 'late_departure_7d'; did you mean 'late_departures_7d'?"
    )


def test_scorer_result_fields_are_checked():
    assert messages("risk.foo > 1") == [
        (1, 6, "risk has no field 'foo'; its fields: factors, label, model_version, value")
    ]


def test_unavailable_name_says_why():
    assert messages("schedule.fire_time") == [
        (1, 1, "'schedule' is not available here: only schedule rules have 'schedule'")
    ]


def test_unknown_filter_and_every_other_problem_are_reported_together():
    assert messages("event.day | iso_weak and profil") == [
        (1, 13, "unknown filter 'iso_weak'; did you mean 'iso_week'?"),
        (1, 26, "unknown name 'profil'; did you mean 'profile'?"),
    ]


def test_template_names_and_lines():
    src = "Hi {{ employee.name }}\n{% for f in risk.factors %}{{ f }}{{ loop.index }}{% endfor %}"
    assert messages(src, template=True) == []
    assert messages("a\n  {{ employe.name }}", template=True) == [
        (2, 6, "unknown name 'employe'; did you mean 'employee'?")
    ]
    assert messages("{% if x %}", template=True)[0][2].startswith("Unexpected end of template")


def test_evaluation_sees_bound_names_at_top_level():
    ctx = {"profile": {"overtime_hours_7d": 23.456}, "vars": {"risk": {"value": 0.8}}}
    assert evaluate("profile.overtime_hours_7d | round(1)", ctx) == 23.5
    assert evaluate("risk.value > 0.7", ctx) is True
    assert compile_condition("risk.value > 0.9")(ctx) is False


def test_missing_field_at_runtime_raises_and_default_guards_it():
    ctx = {"event": {"day": "2026-11-27"}}
    with pytest.raises(UndefinedError):
        compile_condition("event.weekend")(ctx)
    assert evaluate("event.weekend | default(false)", ctx) is False


def test_custom_filters_accept_dates_and_iso_strings():
    assert render("{{ event.day | iso_week }}", {"event": {"day": "2026-11-27"}}) == "2026-W48"
    assert render("{{ d | iso_week }}", {"vars": {"d": date(2027, 1, 1)}}) == "2026-W53"
    assert evaluate("t | iso_week", {"vars": {"t": "2026-11-30T09:00:00+08:00"}}) == "2026-W49"
    assert evaluate("'2026-11-27' | date", {}) == date(2026, 11, 27)
    assert evaluate("('2026-11-27' | date).weekday()", {}) == 4
    assert ENV.filters["iso_week"] is not None  # checked and evaluated by the same environment


def test_sandbox_keeps_the_shared_context_unchanged():
    ctx = {"profile": {"groups": ["a"]}}
    with pytest.raises(SecurityError):
        evaluate("profile.groups.append('b')", ctx)
    with pytest.raises(SecurityError):
        evaluate("profile.__class__.__mro__", ctx)
    assert ctx == {"profile": {"groups": ["a"]}}


def test_one_evaluation_serves_many_expressions_without_leaking_between_them():
    evaluation = Evaluation({"profile": {"overtime_hours_7d": 30}})
    evaluation["rule"] = {"id": "a"}
    assert evaluation.value("rule.id") == "a"
    assert evaluation.render("{% set x = 1 %}{{ x }}") == "1"
    evaluation["rule"] = {"id": "b"}
    assert evaluation.value("rule.id") == "b"
    with pytest.raises(UndefinedError):
        evaluation.value("x")


def test_referenced_fields_for_the_why_line():
    src = "profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5 and event.day"
    assert referenced_fields(src) == [
        "profile.overtime_hours_7d",
        "profile.late_departures_7d",
        "event.day",
    ]


def test_template_names_of_a_text_are_not_those_of_the_same_text_as_an_expression():
    assert messages("employee.id") == []
    assert template_names("employee.id") == set()
    assert messages("{{ employee.id }}/x", template=True) == []
    assert template_names("{{ employee.id }}/x") == {"employee"}
