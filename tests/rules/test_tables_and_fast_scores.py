"""Lookup tables and fast scores in the rule language: what an author writes and is told."""

from __future__ import annotations

import textwrap

from wendu.rules.compiler import check, compile_text
from wendu.rules.loader import load
from wendu.rules.matcher import RuleIndex

GUIDE_RULE = textwrap.dedent("""\
    id: guide
    version: 1
    title: {zh: 指引, en: Guide}
    trigger: {event: chat.message}
    tables:
      guides:
        housing_fund_withdrawal: guide_housing_fund
        payroll: guide_payroll
    when:
      - "score.intent.label in guides and score.intent.value >= 0.5"
    dedupe: "{{ employee.id }}/{{ event.id }}"
    steps:
      - set: {service_url: "'https://hr.example.com'", intent: score.intent}
      - notify:
          to: employee
          template: {from: guides, key: score.intent.label}
    """)


def problems(text: str) -> list[str]:
    return [str(p) for p in check(load(text, "r.yaml")).problems]


def test_a_table_picks_the_template_and_every_entry_is_checked():
    plan = compile_text(GUIDE_RULE, "r.yaml")
    notify = plan.steps[1]
    assert notify.template == ""
    assert notify.template_from.table == "guides"
    assert notify.template_from.key.source == "score.intent.label"
    assert notify.template_from.choices == {"housing_fund_withdrawal": "guide_housing_fund",
                                            "payroll": "guide_payroll"}
    assert plan.tables == {"guides": {"housing_fund_withdrawal": "guide_housing_fund",
                                      "payroll": "guide_payroll"}}
    assert plan.fast_scores == ["intent"]


def test_a_misspelt_template_in_a_table_is_reported_on_its_line():
    text = GUIDE_RULE.replace("payroll: guide_payroll", "payroll: guide_payrol")
    assert problems(text) == [
        "r.yaml:8:14: error: unknown template 'guide_payrol'; did you mean 'guide_payroll'? "
        f"(templates live in {_templates_dir()})",
    ]


def test_an_unknown_table_and_a_bad_key_are_reported():
    text = GUIDE_RULE.replace("{from: guides, key: score.intent.label}",
                              "{from: guidez, key: score.intent.labl}")
    assert problems(text) == [
        "r.yaml:16:24: error: unknown table 'guidez'; did you mean 'guides'?",
        "r.yaml:16:50: error: score.intent has no field 'labl'; did you mean 'label'?",
    ]


def test_a_table_may_not_hide_a_built_in_name():
    text = GUIDE_RULE.replace("  guides:\n", "  profile:\n", 1)
    assert any("'profile' is a built-in name; choose another name for a table name" in p
               for p in problems(text))


def test_a_text_scorer_needs_an_event_with_text():
    text = GUIDE_RULE.replace("chat.message", "attendance.day_closed").replace(
        "{{ event.id }}", "{{ event.day }}")
    found = problems(text)
    assert any("score (fast scorers for attendance.day_closed) has no field 'intent'" in p
               and "its fields: attrition" in p for p in found), found


def test_a_schedule_rule_is_told_fast_scores_are_for_events():
    text = textwrap.dedent("""\
        id: scan
        version: 1
        title: {zh: 扫描, en: Scan}
        trigger: {schedule: "0 9 * * 1"}
        when: ["score.attrition.value > 0.5"]
        dedupe: "{{ employee.id }}/{{ schedule.fire_time | iso_week }}"
        steps:
          - record: {metric: x, value: "1"}
        """)
    found = problems(text)
    assert any("'score' is not available here: fast scores are read at ingest" in p
               for p in found), found


def test_the_index_matches_on_the_score_and_the_table():
    plan = compile_text(GUIDE_RULE, "r.yaml")
    index = RuleIndex([plan])
    ctx = {"event": {"id": "m1", "text": "x"}, "employee": {"id": "E1"}, "profile": {},
           "rule": {}, "vars": {}}
    need = {**ctx, "score": {"intent": {"label": "payroll", "value": 0.9}}}
    small_talk = {**ctx, "score": {"intent": {"label": "none", "value": 0.9}}}
    unsure = {**ctx, "score": {"intent": {"label": "payroll", "value": 0.3}}}
    assert [m.dedupe_key for m in index.match("chat.message", need)] == ["E1/m1"]
    assert len(index.match("chat.message", small_talk)) == 0
    assert len(index.match("chat.message", unsure)) == 0


def _templates_dir() -> str:
    from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR

    return str(DEFAULT_TEMPLATES_DIR)


def test_a_set_of_literals_is_bound_without_evaluation_and_others_are_not():
    plan = compile_text(GUIDE_RULE, "r.yaml")
    assert plan.steps[0].literals is None  # `intent: score.intent` reads the context
    literal = compile_text(GUIDE_RULE.replace(", intent: score.intent", ", limit: 0.5"),
                           "r.yaml")
    assert literal.steps[0].literals == {"service_url": "https://hr.example.com", "limit": 0.5}
    negative = compile_text(GUIDE_RULE.replace(", intent: score.intent", ", low: -0.2"), "r.yaml")
    assert negative.steps[0].literals == {"service_url": "https://hr.example.com", "low": -0.2}
    sum_ = compile_text(GUIDE_RULE.replace(", intent: score.intent", ", two: 1 + 1"), "r.yaml")
    assert sum_.steps[0].literals is None  # arithmetic is evaluated, like any expression
