import json

import pytest

from wendu.rules.doc import STEP_KINDS, RuleDoc, rule_json_schema
from wendu.rules.doc_problems import parse_doc
from wendu.rules.errors import RuleErrors
from wendu.rules.loader import load


def doc_problems(text: str) -> list[str]:
    with pytest.raises(RuleErrors) as exc:
        parse_doc(load(text, "r.yaml"))
    return [str(p) for p in exc.value.problems]


def test_valid_rule_parses(rule):
    doc = parse_doc(load(rule(), "r.yaml"))
    assert isinstance(doc, RuleDoc)
    assert doc.id == "test-rule" and doc.enabled is True
    assert doc.steps[0].notify.to == ["manager"]


def test_unknown_key_suggests_the_nearest_valid_one(rule):
    text = rule().replace("when:", "wehn:")
    assert doc_problems(text) == ["r.yaml:5:1: error: unknown key 'wehn'; did you mean 'when'?"]


def test_unknown_key_inside_a_step_points_at_the_key(rule):
    text = rule("- notify: {to: manager, channels: [inapp], templte: x}")
    assert doc_problems(text) == [
        "r.yaml:9:5: error: missing required key 'template' in 'notify'",
        "r.yaml:9:46: error: unknown key 'templte'; did you mean 'template'?",
    ]


def test_unknown_key_without_a_near_match_lists_the_valid_keys(rule):
    text = rule("- wait: 1d\n  colour: blue")
    assert doc_problems(text) == ["r.yaml:10:5: error: unknown key 'colour'; valid keys here: wait"]


def test_missing_required_key(rule):
    text = rule().replace('dedupe: "{{ employee.id }}/{{ event.day | iso_week }}"\n', "")
    assert doc_problems(text) == ["r.yaml:1:1: error: missing required key 'dedupe'"]


def test_wrong_type_names_the_key_and_the_value(rule):
    text = rule().replace("version: 1", "version: three")
    assert doc_problems(text) == ["r.yaml:2:10: error: 'version' must be an integer, got 'three'"]


def test_version_must_be_positive(rule):
    assert doc_problems(rule().replace("version: 1", "version: 0")) == [
        "r.yaml:2:10: error: 'version' must be at least 1, got 0"
    ]


def test_rule_id_pattern(rule):
    (msg,) = doc_problems(rule().replace("id: test-rule", "id: Test Rule"))
    assert msg.startswith("r.yaml:1:5: error: 'id' must use lowercase letters")


def test_step_without_a_kind_lists_the_kinds_and_suggests(rule):
    (msg,) = doc_problems(rule("- notfy: {to: manager, template: x}"))
    assert msg == (
        "r.yaml:9:5: error: a step needs one of the keys " + ", ".join(STEP_KINDS)
        + "; did you mean 'notify' instead of 'notfy'?"
    )


def test_step_with_two_kinds(rule):
    assert doc_problems(rule("- wait: 1d\n  record: {metric: x}")) == [
        "r.yaml:9:5: error: a step has exactly one kind, this one has 2: wait, record"
    ]


def test_step_that_is_not_a_mapping(rule):
    (msg,) = doc_problems(rule("- just text"))
    assert msg.startswith("r.yaml:9:5: error: a step must be a mapping with one of the keys")


def test_trigger_needs_event_or_schedule(rule):
    text = rule().replace("trigger: {event: attendance.day_closed}", "trigger: {evnt: x}")
    assert doc_problems(text) == [
        "r.yaml:4:10: error: 'trigger' needs either 'event: <event type>' or "
        "'schedule: \"<cron>\"' (not both)"
    ]


def test_nested_steps_are_validated(rule):
    text = rule("""
        - if: "true"
          then:
            - wait_for: {event: training.completed, timeout: 1d, on_timeout: [{wiat: 1d}]}
        """)
    (msg,) = doc_problems(text)
    assert msg.startswith("r.yaml:11:73: error: a step needs one of the keys")
    assert msg.endswith("did you mean 'wait' instead of 'wiat'?")


def test_empty_then_is_an_error(rule):
    assert doc_problems(rule('- if: "true"\n  then: []')) == [
        "r.yaml:10:11: error: 'then' needs at least one entry"
    ]


def test_empty_file_and_non_mapping():
    assert doc_problems("") == [
        "r.yaml:1:1: error: the file is empty; a rule needs id, version, title, trigger, "
        "dedupe and steps"
    ]
    assert doc_problems("- a\n") == [
        "r.yaml:1:1: error: a rule file must be a mapping of keys to values, got a list"
    ]


def test_scalars_are_accepted_as_expressions_and_title_as_text(rule):
    text = rule("- record: {metric: x, value: 1}\n- set: {flag: true}", title="Plain title")
    doc = parse_doc(load(text, "r.yaml"))
    assert doc.title.zh == doc.title.en == "Plain title"
    assert doc.steps[0].record.value == "1"
    assert doc.steps[1].set == {"flag": "true"}


def test_json_schema_offers_each_step_kind_for_completion():
    schema = rule_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["required"] == ["id", "version", "title", "trigger", "dedupe", "steps"]
    one_of = schema["properties"]["steps"]["items"]["oneOf"]
    names = [ref["$ref"].rsplit("/", 1)[1] for ref in one_of]
    assert len(names) == len(STEP_KINDS)
    for name, kind in zip(names, STEP_KINDS, strict=True):
        definition = schema["$defs"][name]
        assert definition["additionalProperties"] is False
        assert kind in definition["required"]
    json.dumps(schema)  # serialisable as is
