"""Expressions that would build a huge value, and private names: refused, quickly, by position."""

import resource
import time

import pytest
from typer.testing import CliRunner

from wendu.cli.rules import app
from wendu.rules.bounds import MAX_LENGTH, TooLarge
from wendu.rules.expressions import Scope, check_expression, check_template, evaluate, render

runner = CliRunner()
SCOPE = Scope({"event": None})


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(
    ("src", "col", "word"),
    [
        ("'a' * 10**9", 5, "'*' would be too large: 1,000,000,000 characters"),
        ("('a' * 10**8) | length > 0", 6, "'*' would be too large"),
        ("10 ** 10000000 > 0", 4, "'**' would be too large: a number of about 10,000,00"),
        ("'%999999999d' % 1", 15, "'%' formatting would be too large"),
        # The first of several equal operators is the one pointed at.
        ("[0] * 1000 * 1000 * 1000", 5, "'*' would be too large"),
        ("'x' * 600000 ~ 'y' * 600000 | length", None, None),  # `|` binds first: fine
        ("('x' * 600000) + ('y' * 600000)", 16, "'+' would be too large"),
    ],
)
def test_a_visible_constant_too_large_is_a_compile_error_at_its_operator(src, col, word):
    before = time.monotonic()
    problems = check_expression(src, SCOPE)
    assert time.monotonic() - before < 1
    if word is None:
        assert problems == []
        return
    (problem,) = problems
    assert word in problem.message
    assert f"at most {MAX_LENGTH:,})" in problem.message or "digits (at most" in problem.message
    assert (problem.line, problem.col) == (1, col)


def test_small_values_still_compute():
    assert evaluate("'ab' * 3 ~ '%5s' % 'x'", {}) == "ababab    x"
    assert evaluate("2 ** 100", {}) == 2**100
    assert evaluate("event.xs * 2 + [3]", {"event": {"xs": [1]}}) == [1, 1, 3]
    assert evaluate("event.t.replace('a', 'bb')", {"event": {"t": "aa"}}) == "bbbb"


@pytest.mark.parametrize(
    "src",
    [
        "'a' * event.n",
        "event.n ** event.n",
        "10 ** event.n > 0",
        "'%*d' % (event.n, 1)",
        "event.t | center(event.n)",
        "event.t | indent(event.n)",
        "[1] | batch(event.n, 0) | list",
        "[1] | slice(event.n) | list",
        "event.big ~ event.big",
        "event.big + event.big",
        "event.t.replace('', event.big)",
        "event.t | replace('', event.big)",
        "'%s%s' | format(event.big, event.big)",
    ],
)
def test_a_value_too_large_at_run_time_raises_at_once_without_building_it(src):
    ctx = {"event": {"n": 10**8, "t": "ab", "big": "x" * 600_000}}
    assert check_expression(src, SCOPE) == []
    before, rss = time.monotonic(), _max_rss_mb()
    with pytest.raises(TooLarge, match="too large"):
        evaluate(src, ctx)
    assert time.monotonic() - before < 1
    assert _max_rss_mb() - rss < 50


def test_templates_jinja_renders_itself_are_bounded_too():
    # A `{% if %}` sends the template to Jinja's own compiler, whose optimizer used to
    # compute constant operations while compiling.
    src = "{% if 1 %}{{ 'a' * 10**9 }}{% endif %}"
    (problem,) = check_template(src, SCOPE)
    assert "'*' would be too large" in problem.message and problem.col == 18
    before = time.monotonic()
    with pytest.raises(TooLarge):
        render("{% if 1 %}{{ 'a' * event.n }}{% endif %}", {"event": {"n": 10**9}})
    with pytest.raises(TooLarge):
        render(src, {})
    assert time.monotonic() - before < 1


def test_validate_reports_a_huge_set_value_at_file_line_col(tmp_path, rule):
    path = tmp_path / "huge.yaml"
    path.write_text(rule(steps="""
        - set: {v: "'a' * 10**9"}
        - notify: {to: manager, channels: [inapp], template: overtime_manager}
    """), encoding="utf-8")
    before = time.monotonic()
    result = runner.invoke(app, ["validate", str(path)])
    assert time.monotonic() - before < 5
    assert result.exit_code == 1
    line = path.read_text().splitlines().index("  - set: {v: \"'a' * 10**9\"}") + 1
    assert result.stdout.startswith(f"{path}:{line}:")
    assert "'*' would be too large" in result.stdout


@pytest.mark.parametrize(
    ("src", "name"),
    [
        ("''.__class__", "__class__"),
        ("cycler.__init__.__globals__", "__init__"),
        ("event['_secret']", "'_secret'"),
        ("event | attr('__class__')", "'__class__'"),
        ("event.xs | map(attribute='a.__class__') | list", "'a.__class__'"),
        ("event.xs | selectattr('__dict__') | list", "'__dict__'"),
    ],
)
def test_private_names_are_refused_where_they_are_written(src, name):
    problems = check_expression(src, SCOPE)
    assert problems, src
    first = min(problems, key=lambda p: p.col)
    assert "names starting with '_' are private" in first.message
    assert first.col == src.index(name) + 1


def test_import_is_an_unknown_name():
    (problem,) = check_expression("__import__('os')", SCOPE)
    assert "unknown name '__import__'" in problem.message and problem.col == 1


@pytest.mark.parametrize(
    "dedupe",
    [
        '"{{ employee.id.__class__ }}"',
        '"{% if 1 %}{{ employee.id.__class__ }}{% endif %}"',
        "\"{{ employee | attr('__class__') }}\"",
    ],
)
def test_validate_refuses_private_names_in_templates(tmp_path, rule, dedupe):
    path = tmp_path / "unsafe.yaml"
    path.write_text(rule(dedupe=dedupe), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "__class__" in t)
    assert result.stdout.startswith(f"{path}:{line}:")
    assert "'__class__' cannot be read: names starting with '_' are private" in result.stdout
