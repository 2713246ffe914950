import pytest

from wendu.rules.errors import RuleError, RuleErrors
from wendu.rules.loader import load

TEXT = """\
id: overtime-care
title: {zh: 加班关怀, en: Overtime care}
steps:
  - notify:
      to: manager
  - record: {metric: x, value: "1"}
"""


def test_positions_of_keys_and_values_are_one_based():
    doc = load(TEXT, "r.yaml")
    assert doc.data["steps"][0]["notify"]["to"] == "manager"
    assert doc.key_positions[("id",)] == (1, 1)
    assert doc.value_positions[("id",)] == (1, 5)
    assert doc.key_positions[("title", "en")] == (2, 19)
    assert doc.key_positions[("steps", 0)] == (4, 5)
    assert doc.key_positions[("steps", 0, "notify", "to")] == (5, 7)
    assert doc.value_positions[("steps", 0, "notify", "to")] == (5, 11)
    assert doc.value_positions[("steps", 1, "record", "value")] == (6, 32)


def test_pos_falls_back_to_the_nearest_ancestor():
    doc = load(TEXT, "r.yaml")
    assert doc.pos(("steps", 0, "notify", "template")) == (4, 5)


def test_expression_offsets_account_for_quotes():
    doc = load('a: x > 1\nb: "x > 1"\nc: \'x > 1\'\n', "r.yaml")
    assert doc.expr_pos(("a",), 1, 3) == (1, 6)
    assert doc.expr_pos(("b",), 1, 3) == (2, 7)
    assert doc.expr_pos(("c",), 1, 3) == (3, 7)


def test_expression_in_a_block_scalar_lands_on_its_line():
    doc = load("a: |\n  x > 1\n  and y\n", "r.yaml")
    assert doc.expr_pos(("a",), 2, 5) == (3, 7)


def test_duplicate_key_points_at_the_second_one():
    with pytest.raises(RuleErrors) as exc:
        load("id: a\nversion: 1\nid: b\n", "r.yaml")
    assert [str(p) for p in exc.value.problems] == [
        "r.yaml:3:1: error: duplicate key 'id' (first written at line 1)"
    ]


def test_duplicate_keys_in_nested_mappings_are_all_reported():
    with pytest.raises(RuleErrors) as exc:
        load("a:\n  x: 1\n  x: 2\nb: {y: 1, y: 2}\n", "r.yaml")
    assert [(p.line, p.col) for p in exc.value.problems] == [(3, 3), (4, 11)]


def test_syntax_error_has_the_marks_position():
    with pytest.raises(RuleErrors) as exc:
        load("id: a\nsteps: [a, b\nversion: 1\n", "r.yaml")
    (problem,) = exc.value.problems
    assert (problem.path, problem.line) == ("r.yaml", 3)
    assert problem.message.startswith("invalid YAML: expected ',' or ']'")


def test_tab_indentation_gets_a_hint():
    with pytest.raises(RuleErrors) as exc:
        load("steps:\n\t- wait: 1d\n", "r.yaml")
    (problem,) = exc.value.problems
    assert (problem.line, problem.col) == (2, 1)
    assert "indent with spaces, not tabs" in problem.message


def test_keys_stay_text_even_when_yaml_would_make_them_booleans():
    doc = load("on: 1\nno: 2\n", "r.yaml")
    assert doc.data == {"on": 1, "no": 2}


def test_empty_document_loads_as_none():
    assert load("# only a comment\n", "r.yaml").data is None


def test_rule_error_formats_like_a_compiler():
    assert str(RuleError("a.yaml", 3, 7, "bad")) == "a.yaml:3:7: error: bad"
    assert str(RuleError("a.yaml", 0, 0, "gone")) == "a.yaml: error: gone"
    assert str(RuleError("a.yaml", 1, 1, "hm", "warning")) == "a.yaml:1:1: warning: hm"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x [*x]\n", "x.yaml:1:4: error: an alias refers to itself"),
        ("a: 2026-02-30\n", "x.yaml:1:4: error: cannot read this value: day is out of range"),
        ("a: !foo bar\n", "x.yaml:1:4: error: cannot read this value: could not determine"),
        ("a: {<<: {b: 1}}\n", "x.yaml:1:5: error: merge keys (<<) are not allowed"),
        ("? [a]\n: 1\n", "x.yaml:1:3: error: a key must be plain text"),
    ],
)
def test_unusual_yaml_is_a_problem_not_a_crash(text, message):
    with pytest.raises(RuleErrors) as exc:
        load(text, "x.yaml")
    assert str(exc.value.problems[0]).startswith(message)


def test_alias_bombs_are_refused():
    rows = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcde", "bcdef", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(RuleErrors) as exc:
        load("\n".join(rows) + "\n", "x.yaml")
    assert "too large" in exc.value.problems[0].message
