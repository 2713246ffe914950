"""Stage 3: Jinja2 expressions and templates, checked against a scope and evaluated.

One sandboxed environment serves both uses, so what the compiler accepted is exactly what runs.
Checking walks the parsed AST: every top-level name must be in scope and every `x.field` on a
known object must be one of its fields, so a typo is a compile error instead of a silent false.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import TemplateError
from jinja2.lexer import TokenStream
from jinja2.parser import Parser
from jinja2.runtime import Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wendu.rules.durations import iso_week, to_date
from wendu.rules.errors import suggest

FILTERS: dict[str, Callable[..., Any]] = {"iso_week": iso_week, "date": to_date}


def make_environment(**options: Any) -> ImmutableSandboxedEnvironment:
    # Immutable: one context object is shared by every rule matched against an event, so an
    # expression must not be able to append to a list in it.
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, **options)
    env.filters.update(FILTERS)
    return env


ENV = make_environment()


# --- Scopes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Obj:
    """A value with known fields; `None` as a field's shape means "anything goes below"."""

    label: str
    fields: Mapping[str, Obj | None]


Shape = Obj | None


@dataclass(frozen=True)
class Scope:
    names: Mapping[str, Shape]
    # Names an author may reach for that do not exist here, with the reason.
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def with_names(self, **more: Shape) -> Scope:
        return Scope({**self.names, **more}, self.unavailable)

    def without(self, *names: str, reason: str = "") -> Scope:
        kept = {k: v for k, v in self.names.items() if k not in names}
        return Scope(kept, {**self.unavailable, **dict.fromkeys(names, reason)})


@dataclass(frozen=True)
class Problem:
    """A problem inside one expression or template; line and col are 1-based within it."""

    message: str
    line: int = 1
    col: int = 1


# --- Checking ---------------------------------------------------------------------------


def check_expression(src: str, scope: Scope) -> list[Problem]:
    if not src.strip():
        return [Problem("the expression is empty")]
    # Parsing the expression as `{{ ... }}` lets one walker serve both kinds; columns shift by 3.
    problems = _Checker("{{ " + src + " }}", scope, expression=True).problems
    end = len(src.splitlines()[0]) + 1 if src.splitlines() else 1
    problems = [replace(p, col=min(max(1, p.col - 3), end)) if p.line == 1 else p
                for p in problems]
    if not problems:
        try:
            _expression(src)
        except TemplateError as exc:
            problems.append(Problem(_tidy(str(exc.message or exc), True)))
    return problems


def check_template(src: str, scope: Scope, required_blocks: tuple[str, ...] = ()) -> list[Problem]:
    checker = _Checker(src, scope, expression=False)
    if checker.ast is not None:
        defined = {block.name for block in checker.ast.find_all(nodes.Block)}
        checker.problems += [Problem(f"no {{% block {name} %}}...{{% endblock %}}")
                             for name in required_blocks if name not in defined]
    return checker.problems


class _Checker:
    def __init__(self, src: str, scope: Scope, *, expression: bool):
        self.src, self.scope = _normalize(src), scope
        self.tokens, self.ast, problem = _parse(self.src)
        self.problems: list[Problem] = []
        if problem is not None:
            self.problems.append(replace(problem, message=_tidy(problem.message, expression)))
            return
        assert self.ast is not None
        self._filters_and_tests(self.ast)
        undeclared = meta.find_undeclared_variables(self.ast)
        for name in sorted(undeclared - set(scope.names) - set(ENV.globals)):
            if name in scope.unavailable:
                self.report(f"'{name}' is not available here: {scope.unavailable[name]}", name)
            else:
                names = sorted(scope.names)
                self.report(f"unknown name '{name}'" + suggest(name, names, "names here"), name)
        for node in self.ast.find_all((nodes.Getattr, nodes.Getitem)):
            chain = _attribute_chain(node)
            if chain and chain[0] in undeclared and chain[0] in scope.names:
                self._fields(chain)
        if not self.problems and not expression:
            try:
                _template(self.src)
            except TemplateError as exc:
                self.problems.append(Problem(str(exc.message or exc)))
        self.problems = list(dict.fromkeys(self.problems))

    def report(self, message: str, token: str, after: str | None = None) -> None:
        line, col = _locate(self.src, self.tokens, token, after)
        self.problems.append(Problem(message, line, col))

    def _filters_and_tests(self, ast: nodes.Template) -> None:
        for node_type, registry, kind, stand_in in (
            (nodes.Filter, ENV.filters, "filter", "string"),
            (nodes.Test, ENV.tests, "test", "defined"),
        ):
            for node in ast.find_all(node_type):
                if node.name not in registry:
                    hint = suggest(node.name, sorted(registry))
                    self.report(f"unknown {kind} '{node.name}'{hint}", node.name)
                    # Jinja's name analysis refuses unknown filters; a stand-in lets it go on,
                    # so the author sees every problem at once.
                    node.name = stand_in

    def _fields(self, chain: list[str]) -> None:
        shape = self.scope.names[chain[0]]
        for index, attr in enumerate(chain[1:], start=1):
            if shape is None:
                return
            if attr not in shape.fields:
                hint = suggest(attr, sorted(shape.fields), "its fields")
                self.report(f"{shape.label} has no field '{attr}'{hint}", attr, chain[index - 1])
                return
            shape = shape.fields[attr]


def _attribute_chain(node: nodes.Node) -> list[str] | None:
    """['profile', 'overtime_hours_7d'] for `profile.overtime_hours_7d` or `profile['...']`."""
    parts: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
        else:
            return None
        node = node.node
    return [node.name, *reversed(parts)] if isinstance(node, nodes.Name) else None


def _tidy(message: str, expression: bool) -> str:
    message = re.sub(r" at \d+$", "", message)
    if message in ("unexpected char \"'\"", "unexpected char '\"'"):
        return "a quoted text is not closed"
    if not expression:
        return message
    if message == "unexpected 'end of print statement'":
        return "the expression ends too early"
    message = message.replace("unexpected '}'", "the expression ends early")
    if message == "chunk after expression":
        return "unexpected text after the expression"
    message = message.replace("'end of print statement'", "the end of the expression")
    message = re.sub(r"expected token the end of the expression, got '(.+)'",
                     r"unexpected '\1'; is an operator (and, or, ==) missing?", message)
    return message.replace("end of template", "end of the expression")


# --- Parsing with token offsets ---------------------------------------------------------


def _normalize(src: str) -> str:
    # The lexer joins lines with "\n"; offsets are counted in that form.
    return src.replace("\r\n", "\n").replace("\r", "\n")


class _Recorder:
    """Yields raw lexer tokens and remembers where each starts, for column numbers."""

    def __init__(self, src: str):
        self.tokens: list[tuple[int, str, str]] = []  # (offset, type, text)
        self.offset = 0
        self.lex_failed = False
        self._raw = ENV.lexer.tokeniter(src, None, None, None)

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        while True:
            try:
                lineno, kind, text = next(self._raw)
            except StopIteration:
                return
            except TemplateSyntaxError:
                self.lex_failed = True
                raise
            self.tokens.append((self.offset, kind, text))
            self.offset += len(text)
            yield lineno, kind, text


def _parse(src: str) -> tuple[list[tuple[int, str, str]], nodes.Template | None, Problem | None]:
    recorder = _Recorder(src)
    try:
        parser = Parser(ENV, "")
        parser.stream = TokenStream(ENV.lexer.wrap(iter(recorder)), None, None)
        ast = parser.parse()
    except TemplateSyntaxError as exc:
        if recorder.lex_failed or not recorder.tokens:
            offset = recorder.offset
        elif parser.stream.current.type == "eof":
            offset = len(src.rstrip("\n"))
        else:
            offset = recorder.tokens[-1][0]
        message = exc.message or "syntax error"
        if recorder.tokens and not recorder.lex_failed:
            # Jinja names the token's type ("got 'integer'"); the author wrote its text.
            message = re.sub(r"got '[^']*'$", f"got '{recorder.tokens[-1][2]}'", message)
        line, col = _line_col(src, offset)
        return recorder.tokens, None, Problem(message, line, col)
    return recorder.tokens, ast, None


def _line_col(src: str, offset: int) -> tuple[int, int]:
    before = src[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _locate(src: str, tokens: list[tuple[int, str, str]], name: str,
            after: str | None = None) -> tuple[int, int]:
    """Where `name` first appears as a name token (after `<after>.` when given)."""
    significant = [t for t in tokens if t[1] != "whitespace"]
    for i, (offset, kind, text) in enumerate(significant):
        if text != name and text.strip("'\"") != name:
            continue
        if after is None and kind == "name":
            if i == 0 or significant[i - 1][2] != ".":
                return _line_col(src, offset)
        elif after is not None and i >= 2 and significant[i - 2][2] == after:
            return _line_col(src, offset)
    return 1, 1


# --- Evaluation -------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _expression(src: str) -> Template:
    # What `Environment.compile_expression` builds, minus its wrapper: a template storing the
    # value in `result`, so one prepared context can evaluate many expressions (Evaluation).
    parser = Parser(ENV, src, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
    return ENV.from_string(nodes.Template(body, lineno=1))


@lru_cache(maxsize=8192)
def _template(src: str) -> Template:
    return ENV.from_string(src)


_EMPTY = ENV.from_string("")


def flat_context(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Bound names live under ctx["vars"]; expressions see them as top-level names."""
    flat = dict(ctx.get("vars") or {})
    flat.update((k, v) for k, v in ctx.items() if k != "vars")
    return flat


class Evaluation:
    """A runtime context prepared once for many expressions (the matcher's hot path).

    Building a Jinja context costs more than evaluating a typical condition, so the matcher
    builds one per event and only swaps `rule` (via `ev["rule"] = ...`) between rules.
    """

    __slots__ = ("flat", "_context")

    def __init__(self, ctx: Mapping[str, Any]):
        self._context = _EMPTY.new_context(flat_context(ctx))
        self.flat: dict[str, Any] = self._context.parent

    def __setitem__(self, name: str, value: Any) -> None:
        self.flat[name] = value

    def value(self, src: str) -> Any:
        context = self._context
        # Clear what an earlier expression assigned, so nothing leaks between rules.
        context.vars.clear()
        for _ in _expression(src).root_render_func(context):
            pass
        result = context.vars.get("result")
        if isinstance(result, Undefined):
            result._fail_with_undefined_error()
        return result

    def render(self, src: str) -> str:
        template = _template(src)
        if template.blocks:
            return template.render(self.flat)
        self._context.vars.clear()
        return ENV.concat(template.root_render_func(self._context))  # type: ignore[attr-defined]


def evaluate(src: str, ctx: Mapping[str, Any]) -> Any:
    """The value of an expression in a runtime context (raises jinja2 errors on failure)."""
    return Evaluation(ctx).value(src)


def render(src: str, ctx: Mapping[str, Any]) -> str:
    return Evaluation(ctx).render(src)


class Condition:
    """A compiled condition: call it with a runtime context, or `.on(evaluation)`."""

    __slots__ = ("source",)

    def __init__(self, source: str):
        self.source = source
        _expression(source)

    def __call__(self, ctx: Mapping[str, Any]) -> bool:
        return self.on(Evaluation(ctx))

    def on(self, evaluation: Evaluation) -> bool:
        return bool(evaluation.value(self.source))


def compile_condition(src: str) -> Condition:
    return Condition(src)


def template_names(src: str) -> set[str]:
    """Top-level names a template reads (empty when it does not parse)."""
    _, ast, problem = _parse(_normalize(src))
    return set() if ast is None else set(meta.find_undeclared_variables(ast))


@lru_cache(maxsize=8192)
def referenced_fields(src: str, roots: tuple[str, ...] = ("event", "profile")) -> list[str]:
    """Dotted names like 'profile.overtime_hours_7d' that an expression reads, in order."""
    found: list[str] = []
    ast = ENV.parse("{{ " + src + " }}")
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in roots:
            dotted = f"{node.node.name}.{node.attr}"
            if dotted not in found:
                found.append(dotted)
    return found
