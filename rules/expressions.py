"""Stage 3: Jinja2 expressions and templates, checked against a scope and evaluated.

One sandboxed environment serves both uses, so what the compiler accepted is exactly what runs.
Checking walks the parsed AST: every top-level name must be in scope and every `x.field` on a
known object must be one of its fields, so a typo is a compile error instead of a silent false.
The same AST is then compiled to a Python function (rules/pyexpr.py), cached per source, which
is what evaluates; templates of text and `{{ expr }}` outputs (dedupe keys, task titles) are
compiled the same way and the others rendered by Jinja.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.parser import Parser
from jinja2.runtime import Undefined

from wendu.rules.environment import ENV, FILTERS, make_environment  # noqa: F401 - re-exported
from wendu.rules.errors import suggest
from wendu.rules.exprsafety import Rejected, constant_problems, private_reads
from wendu.rules.exprtokens import (
    NOT_LITERAL,
    Error,
    Tokens,
    attribute_chain,
    descendants,
    literal_of,
    locate,
    locate_after,
    normalize,
    parse,
    reads,
    tidy,
)
from wendu.rules.pyexpr import Compiled, Compiler

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
    checker = _Checker("{{ " + src + " }}", scope, expression=True, source=src)
    problems = checker.problems
    end = len(src.splitlines()[0]) + 1 if src.splitlines() else 1
    problems = [replace(p, col=min(max(1, p.col - 3), end)) if p.line == 1 else p for p in problems]
    if not problems:
        try:
            compiled_expression(src)
        except TemplateError as exc:
            problems.append(Problem(tidy(str(exc.message or exc), True)))
    return problems


def check_template(src: str, scope: Scope, required_blocks: tuple[str, ...] = ()) -> list[Problem]:
    checker = _Checker(src, scope, expression=False, source=src)
    if checker.ast is not None and required_blocks:
        defined = {block.name for block in checker.ast.find_all(nodes.Block)}
        checker.problems += [
            Problem(f"no {{% block {name} %}}...{{% endblock %}}")
            for name in required_blocks
            if name not in defined
        ]
    return checker.problems


class _Checker:
    def __init__(self, src: str, scope: Scope, *, expression: bool, source: str):
        self.src, self.scope = normalize(src), scope
        self.tokens, self.ast, error = _parsed(self.src)
        self.problems: list[Problem] = []
        if error is not None:
            message, line, col = error
            self.problems.append(Problem(tidy(message, expression), line, col))
            return
        assert self.ast is not None
        self.nodes = descendants(self.ast)
        self._filters_and_tests()
        undeclared = _undeclared(self.ast, self.nodes)
        for name in sorted(undeclared - set(scope.names) - set(ENV.globals)):
            if name in scope.unavailable:
                self.report(f"'{name}' is not available here: {scope.unavailable[name]}", name)
            else:
                names = sorted(scope.names)
                self.report(f"unknown name '{name}'" + suggest(name, names, "names here"), name)
        for node in self.nodes:
            if not isinstance(node, nodes.Getattr | nodes.Getitem):
                continue
            chain = attribute_chain(node)
            if chain and chain[0] in undeclared and chain[0] in scope.names:
                self._fields(chain)
        for rejected in (*private_reads(self.nodes), *constant_problems(self.nodes)):
            self._rejected(rejected)
        if not self.problems:
            # The parse is reused to compile, so a rule set's reload parses each source once.
            if expression:
                self._compile_expression(source)
            elif not self._compile_template(source):
                try:
                    _template(self.src)
                except TemplateError as exc:
                    self.problems.append(Problem(str(exc.message or exc)))
            if not self.problems and not expression:
                _remember(_NAMES, source, frozenset(undeclared))
        self.problems = list(dict.fromkeys(self.problems))

    def _compile_expression(self, source: str) -> None:
        body = self.ast.body if self.ast is not None else []
        if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
            return  # not one expression: compiled_expression() reports it as Jinja does
        node = body[0].nodes[0]
        # `{{ a, b }}` is a tuple but `a, b` alone is not an expression; let Jinja say so.
        if isinstance(node, nodes.TemplateData | nodes.Tuple) or source in _EXPRESSIONS:
            return
        try:
            _remember(_EXPRESSIONS, source, _COMPILER.expression(source, node))
        except Rejected as exc:
            self._rejected(exc)

    def _compile_template(self, source: str) -> bool:
        """Whether the template compiles to a function; if not, Jinja's compiler vets it."""
        known = _TEMPLATES.get(source, False)
        if known is not False:
            return known is not None
        assert self.ast is not None
        try:
            compiled = _COMPILER.template(source, self.ast)
        except Rejected:
            compiled = None
        if compiled is not None:
            _remember(_TEMPLATES, source, compiled)
        return compiled is not None

    def _rejected(self, exc: Rejected) -> None:
        line, col = exc.lineno, 1
        if exc.token is not None:
            line, col = locate_after(self.src, self.tokens, exc.token, exc.before) or (line, 1)
        self.problems.append(Problem(exc.message, line, col))

    def report(self, message: str, token: str, after: str | None = None) -> None:
        line, col = locate(self.src, self.tokens, token, after)
        self.problems.append(Problem(message, line, col))

    def _filters_and_tests(self) -> None:
        known = {nodes.Filter: ENV.filters, nodes.Test: ENV.tests}
        if all(node.name in known[type(node)] for node in self.nodes if type(node) in known):
            return
        # The stand-ins below change the tree, which is shared by every check of this source.
        self.ast = copy.deepcopy(self.ast)
        self.nodes = descendants(self.ast)
        for node_type, registry, kind, stand_in in (
            (nodes.Filter, ENV.filters, "filter", "string"),
            (nodes.Test, ENV.tests, "test", "defined"),
        ):
            for node in self.nodes:
                if isinstance(node, node_type) and node.name not in registry:
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


def _undeclared(ast: nodes.Template, below: list[nodes.Node] | None = None) -> set[str]:
    # Text and outputs declare no names, so every name read is undeclared; Jinja's own analysis
    # (which runs its code generator) is only needed for statements.
    if all(isinstance(stmt, nodes.Output) for stmt in ast.body):
        below = descendants(ast) if below is None else below
        names = {n.name for n in below if isinstance(n, nodes.Name) and n.ctx == "load"}
        return names - set(ENV.globals)
    return meta.find_undeclared_variables(ast)


def literal_value(src: str) -> Any:
    """The value of an expression made of literals only (`'https://...'`, `0.5`, `[1, 2]`),
    else NOT_LITERAL; read from the parse the check already made."""
    _, ast, error = _parsed(normalize("{{ " + src + " }}"))
    return NOT_LITERAL if ast is None or error is not None else literal_of(ast)


@lru_cache(maxsize=4096)
def _parsed(src: str) -> tuple[Tokens, nodes.Template | None, Error | None]:
    # Dedupe keys and small values repeat across a rule set; parse each text once.
    return parse(ENV, src)


# --- Evaluation -------------------------------------------------------------------------


class ExpressionNotAllowed(SecurityError):
    """An expression using a construct rules may not use (the compiler reports it earlier)."""


_COMPILER = Compiler(ENV)
# Per source, across rule versions; a reload of the same rules finds them all here.
_EXPRESSIONS: dict[str, Compiled] = {}
_TEMPLATES: dict[str, Compiled | None] = {}
_NAMES: dict[str, frozenset[str]] = {}
_CACHE_SIZE = 16_384


def _remember(cache: dict[str, Any], key: str, value: Any) -> Any:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()  # far more sources than any rule set has: start over rather than grow
    cache[key] = value
    return value


def compiled_expression(src: str) -> Compiled:
    """The compiled form of an expression; raises TemplateSyntaxError or ExpressionNotAllowed."""
    found = _EXPRESSIONS.get(src)
    if found is not None:
        return found
    parser = Parser(ENV, src, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    try:
        return _remember(_EXPRESSIONS, src, _COMPILER.expression(src, expr))
    except Rejected as exc:
        raise ExpressionNotAllowed(exc.message) from None


def compiled_template(src: str) -> Compiled | None:
    """The compiled form of a template of text and `{{ expr }}` outputs; None for the others,
    which Jinja renders. Raises TemplateSyntaxError."""
    found = _TEMPLATES.get(src, False)
    if found is not False:
        return found
    try:
        compiled = _COMPILER.template(src, ENV.parse(src))
    except Rejected:
        compiled = None
    return _remember(_TEMPLATES, src, compiled)


def renderer(src: str) -> Callable[[dict[str, Any]], str]:
    """A function rendering the template `src` over a flat context."""
    compiled = compiled_template(src)
    return compiled.fn if compiled is not None else _template(src).render


@lru_cache(maxsize=8192)
def _template(src: str) -> Template:
    return ENV.from_string(src)


def defined(value: Any) -> Any:
    """The value, or the UndefinedError a missing one stands for."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def flat_context(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Bound names live under ctx["vars"]; expressions see them as top-level names."""
    flat = dict(ctx.get("vars") or {})
    flat.update((k, v) for k, v in ctx.items() if k != "vars")
    return flat


class Evaluation:
    """A runtime context prepared once for many expressions (the matcher's hot path).

    Compiled expressions only read the flat dict, so one serves every rule matched against an
    event; only `rule` changes between them (via `ev["rule"] = ...`).
    """

    __slots__ = ("flat",)

    def __init__(self, ctx: Mapping[str, Any]):
        self.flat: dict[str, Any] = flat_context(ctx)

    def __setitem__(self, name: str, value: Any) -> None:
        self.flat[name] = value

    def value(self, src: str) -> Any:
        return defined(compiled_expression(src).fn(self.flat))

    def render(self, src: str) -> str:
        return renderer(src)(self.flat)


def evaluate(src: str, ctx: Mapping[str, Any]) -> Any:
    """The value of an expression in a runtime context (raises jinja2 errors on failure)."""
    return Evaluation(ctx).value(src)


def render(src: str, ctx: Mapping[str, Any]) -> str:
    return Evaluation(ctx).render(src)


class Condition:
    """A compiled condition: call it with a runtime context, or `.on(evaluation)`."""

    __slots__ = ("source", "_fn")

    def __init__(self, source: str):
        self.source = source
        self._fn = compiled_expression(source).fn

    def __call__(self, ctx: Mapping[str, Any]) -> bool:
        return self.on(Evaluation(ctx))

    def on(self, evaluation: Evaluation) -> bool:
        return bool(defined(self._fn(evaluation.flat)))


def compile_condition(src: str) -> Condition:
    return Condition(src)


def template_names(src: str) -> set[str]:
    """Top-level names a template reads (empty when it does not parse)."""
    known = _NAMES.get(src)
    if known is not None:
        return set(known)
    _, ast, _error = _parsed(normalize(src))
    return set() if ast is None else set(_undeclared(ast))


@lru_cache(maxsize=8192)
def referenced_fields(src: str, roots: tuple[str, ...] = ("event", "profile")) -> list[str]:
    """Dotted names like 'profile.overtime_hours_7d' that an expression reads, in order."""
    return [f"{root}.{attr}" for root, attr in compiled_expression(src).attrs if root in roots]


def fields_read(src: str, root: str, *, template: bool = False) -> set[str]:
    """`x` for every `<root>.x` (or `<root>['x']`) an expression or template reads; empty
    when it does not parse. A checked source is answered from its compiled form."""
    compiled = (_TEMPLATES if template else _EXPRESSIONS).get(src)
    if compiled is not None:
        return {key for name, key in compiled.reads if name == root}
    try:
        ast = ENV.parse(src if template else "{{ " + src + " }}")
    except TemplateError:
        return set()
    return {key for name, key in reads(ast) if name == root}
