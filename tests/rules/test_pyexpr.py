"""Compiled expressions against Jinja's own evaluation, and what the compiler refuses."""

from datetime import date

import pytest
from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined

from wendu.rules.compiler import compile_text
from wendu.rules.errors import RuleErrors
from wendu.rules.expressions import (
    ENV,
    Obj,
    Scope,
    check_expression,
    check_template,
    compiled_expression,
    compiled_template,
    evaluate,
    flat_context,
    render,
)

CTX = {
    "event": {
        "day": "2026-11-27",
        "text": "Hello World",
        "n": 3,
        "none": None,
        "tags": ["a", "b"],
        "scores": {"x": 2.5, "y": 1},
        "when": date(2026, 11, 27),
    },
    "profile": {"h": 23.456, "late": 0, "name": "张伟", "groups": ["a"]},
    "employee": {"id": "E1", "manager": None},
    "rule": {"id": "r1"},
    "vars": {"k": "x", "risk": {"value": 0.8}},
}

EXPRESSIONS = [
    # comparisons, chained, membership
    "profile.h > 20",
    "profile.h > 20 and profile.late >= 5",
    "1 < event.n < 5",
    "event.n == 3.0",
    "event.text != 'x'",
    "'a' in event.tags",
    "'z' not in event.tags",
    "'World' in event.text",
    "k in event.scores",
    # and / or / not return operands, as in Python
    "profile.late or 7",
    "profile.h and profile.late",
    "event.none or 'fallback'",
    "event.text and event.n",
    "not profile.late",
    "not event.tags",
    # arithmetic and concatenation
    "event.n + 1",
    "event.n - 1.5",
    "event.n * 2",
    "event.n / 2",
    "event.n // 2",
    "event.n % 2",
    "event.n ** 2",
    "-event.n",
    "+event.n",
    "'%s-%s' % (event.n, k)",
    "event.text ~ '!' ~ event.n",
    "event.none ~ 'x'",
    "profile.name ~ '先生'",
    "event.tags + ['c']",
    # where Jinja's precedence is not Python's: `**` is left-associative, `-` binds first
    "2 ** 3 ** 2",
    "-2 ** 2",
    "-event.n ** 2",
    "1 - 2 - 3",
    "2 * 3 % 4",
    "1 ~ 2 + 3",
    "not 1 == 2",
    "'a' in event.tags == true",
    "event.n > 1 == true",
    # conditional expressions
    "1 if event.n > 2 else 0",
    "'big' if profile.h > 100 else 'small' if profile.h > 20 else 'tiny'",
    "(1 if event.n > 5) or 2",
    # literals and access
    "[1, event.n, 'a']",
    "(event.n,)",
    "(1, 2)",
    "{'a': event.n, 'b': [k]}",
    "event.tags[0]",
    "event.tags[-1]",
    "event.tags.0",
    "event.tags[1:]",
    "event.text[:5]",
    "event.text[::2]",
    "event.scores['x']",
    "event.scores[k]",
    "event.scores.x",
    "profile['h']",
    "risk.value > 0.7",
    "rule.id == 'r1'",
    "employee.manager",
    "event.when.year",
    "true and false",
    "none",
    # tests
    "event.missing is defined",
    "event.missing is not defined",
    "event.n is defined",
    "event.none is none",
    "event.n is number",
    "event.text is string",
    "event.n is divisibleby 3",
    "event.tags is iterable",
    "event.n is odd",
    "event.scores is mapping",
    # filters
    "event.missing | default('d')",
    "event.none | default('d')",
    "event.none | default('d', true)",
    "profile.h | round",
    "profile.h | round(1)",
    "profile.h | round(1, 'floor')",
    "event.text | lower",
    "event.text | upper",
    "event.tags | length",
    "event.text | length",
    "event.tags | join(',')",
    "event.tags | first",
    "event.tags | last",
    "[3, 1, 2] | max",
    "[3, 1, 2] | min",
    "[1, 2.5] | sum",
    "'3' | int",
    "'2.5' | float",
    "-3 | abs",
    "event.tags | list",
    "event.tags | map('upper') | list",
    "event.tags | select('equalto', 'a') | list",
    "[3, 1] | sort | first",
    "event.scores | dictsort",
    "event.day | iso_week",
    "event.day | date",
    "event.text | replace('World', 'there')",
    # read-only methods and safe globals
    "(event.day | date).weekday()",
    "event.text.lower()",
    "event.text.startswith('He')",
    "event.scores.get('x')",
    "event.scores.get('z', 0)",
    "event.text.split(maxsep=1)",
    "event.scores.get(obj=1)",
    "range(3) | list",
    "dict(a=event.n)",
    # failures: a missing value used, a type mismatch, a division by zero
    "event.missing",
    "event.missing > 1",
    "event.missing == 1",
    "1 if event.missing else 2",
    "event.missing in event.tags",
    "'a' in event.missing",
    "event.missing ~ 'x'",
    "event.missing | length",
    "event.missing.deeper",
    "employee.manager.name",
    "event.tags[5]",
    "event.scores['z']",
    "1 if event.n > 5",
    "event.text + 1",
    "event.n / 0",
    "event.missing | round",
]


def outcome(compute):
    try:
        value = compute()
    except Exception as exc:  # noqa: BLE001 - the failure is what is compared
        return "error", type(exc), str(exc)
    return "value", type(value), value


def jinja(src, ctx):
    value = ENV.compile_expression(src, undefined_to_none=False)(**flat_context(ctx))
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


@pytest.mark.parametrize("src", EXPRESSIONS)
def test_compiled_expressions_evaluate_as_jinja_does(src):
    expected = outcome(lambda: jinja(src, CTX))
    assert outcome(lambda: evaluate(src, CTX)) == expected


def test_the_table_exercises_both_values_and_failures():
    # The comparison above would be hollow if everything failed (or nothing did) both ways.
    kinds = [outcome(lambda s=s: jinja(s, CTX))[0] for s in EXPRESSIONS]
    assert kinds.count("value") > 90 and kinds.count("error") > 10


def test_a_missing_value_fails_with_jinjas_message():
    with pytest.raises(Exception, match="'dict object' has no attribute 'missing'"):
        evaluate("event.missing > 1", CTX)
    with pytest.raises(Exception, match="no else section was defined"):
        evaluate("1 if event.n > 5", CTX)


TEMPLATES = [
    "{{ employee.id }}/{{ event.day | iso_week }}",
    "{{ employee.id }}/{{ event.id }}",
    "{{ employee.manager }}",
    "a{{ event.n }}b{{ event.none }}c",
    "{{ event.tags }} {{ event.scores }}",
    "{{ profile.h }}",
    "{{ profile.name }}: {{ event.n * 2 }} h",
    "text only",
    "",
    "{{- event.n -}}  x",
    "{{ event.n }}\n",
    "{{ event.n }}\n\n",
    "{{ 'a' if event.n > 5 }}|",
    "{{ event.missing }}",
]


@pytest.mark.parametrize("src", TEMPLATES)
def test_compiled_templates_render_as_jinja_does(src):
    assert compiled_template(src) is not None
    expected = outcome(lambda: ENV.from_string(src).render(flat_context(CTX)))
    assert outcome(lambda: render(src, CTX)) == expected


def test_templates_with_statements_are_left_to_jinja():
    src = "{% if event.n > 1 %}many{% else %}one{% endif %}"
    assert compiled_template(src) is None
    assert render(src, CTX) == "many"


SCOPE = Scope(
    {
        "event": Obj("event", dict.fromkeys(["text", "tags", "day"])),
        "profile": Obj("profile", dict.fromkeys(["groups", "h"])),
        "x": None,
    }
)


def problems(src, template=False):
    found = (check_template if template else check_expression)(src, SCOPE)
    return [(p.line, p.col, p.message) for p in found]


def test_private_names_are_refused_where_they_are_written():
    private = "cannot be read: names starting with '_' are private"
    assert problems("event.text.__class__") == [(1, 12, f"'__class__' {private}")]
    assert problems("x._secret == 1") == [(1, 3, f"'_secret' {private}")]
    assert problems("x['_secret']") == [(1, 3, f"'_secret' {private}")]
    assert problems("profile.h > 1 and\n  x.y.__dict__") == [(2, 7, f"'__dict__' {private}")]


def test_calls_other_than_read_only_methods_are_refused():
    (found,) = problems("event.tags.append('b')")
    assert found[:2] == (1, 12)
    assert found[2].startswith("'append()' cannot be called here; the methods an expression")
    assert "weekday" in found[2]
    assert problems("lipsum() == ''") == [
        (1, 1, "calls are not allowed here; use a filter instead, e.g. `value | round(1)`")
    ]
    assert problems("x.y.format(1)")[0][:2] == (1, 5)
    assert problems("event.tags | join(*x)") == [
        (1, 19, "unpacking arguments (*args, **kwargs) is not allowed here")
    ]


def test_what_is_allowed_checks_clean():
    for src in (
        "event.text.lower() == 'hi'",
        "(event.day | date).weekday() < 5",
        "range(3) | list",
        "x.items() | list",
        "x.a.b['c'] if x is defined else 0",
    ):
        assert problems(src) == [], src


def test_a_refused_construct_is_a_compile_error_at_its_place_in_the_file(rule):
    text = rule(when='["event.overtime_hours.__class__"]')
    with pytest.raises(RuleErrors) as exc:
        compile_text(text, "r.yaml")
    (problem,) = exc.value.problems
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "__class__" in t)
    column = text.splitlines()[line - 1].index("__class__") + 1
    assert (problem.line, problem.col) == (line, column)
    assert "names starting with '_' are private" in problem.message


def test_evaluating_a_refused_construct_raises_before_running_anything():
    ctx = {"profile": {"groups": ["a"]}}
    with pytest.raises(SecurityError):
        evaluate("profile.groups.append('b')", ctx)
    with pytest.raises(SecurityError):
        evaluate("profile.__class__", ctx)
    assert ctx == {"profile": {"groups": ["a"]}}


def test_the_compiled_form_is_cached_per_source_and_knows_what_it_reads():
    src = "profile.h > 1 and event.scores['x'] > 1 and profile.h < 99"
    compiled = compiled_expression(src)
    assert compiled_expression(src) is compiled
    assert compiled.attrs == (("profile", "h"), ("event", "scores"))
    assert compiled.reads == (("profile", "h"), ("event", "scores"))
    assert compiled_expression("x['k'] + x.j").reads == (("x", "k"), ("x", "j"))


def test_expressions_compiled_on_several_threads_each_get_their_own_code():
    # Activities evaluate in worker threads, so first compilations can happen side by side.
    from concurrent.futures import ThreadPoolExecutor

    sources = {f"n{' + n' * (k - 1)} - {k % 7}": k - k % 7 for k in range(1, 120)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda src: evaluate(src, {"vars": {"n": 1}}), sources))
    assert got == list(sources.values())


def test_an_expression_too_deep_for_python_is_a_problem_not_a_crash():
    src = " + ".join(["x"] * 250)
    assert problems(src) == [(1, 1, "the expression is nested too deeply")]
