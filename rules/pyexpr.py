"""Jinja expression ASTs -> plain Python functions of one context dict.

Rendering a Jinja template per condition costs far more than the comparison it wraps, so each
expression is parsed by Jinja once and its AST turned into the source of a small Python
function, compiled once. The function does what Jinja's generated code does, over the subset
rules use: the same sandboxed attribute and item access, the same filters and tests, and Jinja's
own `StrictUndefined` for a missing value, so an error reads the same as before.

Anything outside that subset (private names, calls other than a few read-only methods and
safe globals, argument unpacking) is refused here, at compile time, with the token to point at.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.runtime import Undefined, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg

from wendu.rules import bounds
from wendu.rules.exprsafety import SIZED, Rejected, constant, public

# Methods that only read their object (dates, text, mappings), so a shared context stays as
# it was: `('2026-11-27' | date).weekday()`, `event.text.lower()`.
_DATE_METHODS = ("weekday", "isoweekday", "isoformat", "isocalendar", "date", "time")
_TEXT_METHODS = ("lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize")
_SEARCH_METHODS = ("startswith", "endswith", "split", "replace", "count", "find", "isdigit")
_MAPPING_METHODS = ("get", "keys", "values", "items")
METHODS = frozenset((*_DATE_METHODS, *_TEXT_METHODS, *_SEARCH_METHODS, *_MAPPING_METHODS))
# Jinja globals that may be called; the others (cycler, joiner, namespace, lipsum) are for
# templates and hold state.
FUNCTIONS = frozenset({"range", "dict"})

_OPERATORS = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "gteq": ">=",
    "lt": "<",
    "lteq": "<=",
    "in": "in",
    "notin": "not in",
}
_BINARY = {
    nodes.Sub: "-",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
    nodes.And: "and",
    nodes.Or: "or",
}
_HELPERS = {"+": "_add", "*": "_mul", "%": "_mod", "**": "_pow"}
_UNARY = {nodes.Neg: "-", nodes.Pos: "+", nodes.Not: "not "}


@dataclass(frozen=True)
class Compiled:
    source: str
    fn: Callable[[dict[str, Any]], Any]
    # (root, attr) for every `root.attr` read, in the order they are written.
    attrs: tuple[tuple[str, str], ...]
    # The same with `root['key']` reads too.
    reads: tuple[tuple[str, str], ...]


_MISSING = object()


def _runtime(env: SandboxedEnvironment) -> dict[str, Any]:
    context = env.from_string("").new_context({})

    def getattr_(obj: Any, name: str) -> Any:
        # Rule contexts are plain dicts: a field is a key. Anything else goes through the
        # sandbox exactly as Jinja's own code would.
        if type(obj) is dict:
            value = obj.get(name, _MISSING)
            if value is _MISSING:
                return StrictUndefined(obj=obj, name=name)
            return value
        return env.getattr(obj, name)

    def getitem(obj: Any, key: Any) -> Any:
        if type(obj) is dict:
            try:
                return obj[key]
            except (KeyError, TypeError):
                return StrictUndefined(obj=obj, name=key)
        return env.getitem(obj, key)

    def method(obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        bounds.check_method(obj, name, args)
        return env.call(context, env.getattr(obj, name), *args, **kwargs)

    def no_else(lineno: int) -> Undefined:
        # Jinja uses the plain Undefined here whatever the environment's class.
        return Undefined(
            hint=f"the inline if-expression on line {lineno} evaluated to false "
            "and no else section was defined."
        )

    return {
        "_M": _MISSING,
        "_U": StrictUndefined,
        "_ga": getattr_,
        "_gi": getitem,
        "_call": method,
        "_no_else": no_else,
        "_join": bounds.checked_join(str_join),
        "_add": bounds.add,
        "_mul": bounds.mul,
        "_mod": bounds.mod,
        "_pow": bounds.power,
        "_str": str,
        "_type": type,
        "_dict": dict,
        "_ENV": env,
        "_CTX": context,
        "_EVAL": context.eval_ctx,
        "_G": env.globals,
    }


class _Generator:
    def __init__(self, env: SandboxedEnvironment):
        self.env = env
        self.values: list[Any] = []
        self.names: dict[str, str] = {}
        self.slots: dict[Any, str] = {}
        self.reads: list[tuple[str, str, bool]] = []
        self.dict_roots: set[str] = set()
        self.temps = 0
        # Operator nodes whose constant parts were computed (within bounds) already.
        self.sized: set[int] = set()

    def read(self, node: nodes.Node, key: Any, attr: bool) -> None:
        read = (node.name, key, attr) if isinstance(node, nodes.Name) else None
        if read is not None and isinstance(key, str) and read not in self.reads:
            self.reads.append(read)

    def const(self, value: Any) -> str:
        # Every constant (numbers, texts, field names, filters) is a closure variable, never a
        # literal, so expressions of one shape share one compiled code object.
        try:
            key: Any = (type(value), value)
            slot = self.slots.get(key)
        except TypeError:
            key, slot = None, None
        if slot is None:
            slot = f"_k{len(self.values)}"
            self.values.append(value)
            if key is not None:
                self.slots[key] = slot
        return slot

    def name(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = f"v{len(self.names)}"
        return self.names[name]

    def prologue(self) -> list[str]:
        lines = []
        for name, var in self.names.items():
            key = self.const(name)
            fallback = f"_G[{key}]" if name in self.env.globals else f"_U(name={key})"
            lines += [f"    {var} = c.get({key}, _M)", f"    if {var} is _M: {var} = {fallback}"]
            if var in self.dict_roots:
                lines.append(f"    d_{var} = _type({var}) is _dict")
        return lines

    def expr(self, node: nodes.Node) -> str:
        visit = getattr(self, f"visit_{type(node).__name__}", None)
        if visit is not None:
            return visit(node)
        if type(node) in SIZED:
            self.constant_size(node)
            helper = _HELPERS[SIZED[type(node)]]
            return f"{helper}({self.expr(node.left)}, {self.expr(node.right)})"
        if type(node) in _BINARY:
            return f"({self.expr(node.left)} {_BINARY[type(node)]} {self.expr(node.right)})"
        if type(node) in _UNARY:
            return f"({_UNARY[type(node)]}{self.expr(node.node)})"
        what = type(node).__name__
        raise Rejected(f"'{what}' cannot be used in an expression", node.lineno)

    def constant_size(self, node: nodes.Node) -> None:
        """A `'a' * 10**9` written out in full is refused now, not when a rule runs it."""
        if id(node) not in self.sized:
            constant(node, self.sized)

    def visit_Const(self, node: nodes.Const) -> str:
        return self.const(node.value)

    def visit_Name(self, node: nodes.Name) -> str:
        return self.name(node.name)

    def visit_Getattr(self, node: nodes.Getattr) -> str:
        public(node.attr, node.lineno, ".")
        self.read(node.node, node.attr, True)
        # The common case (a field of a dict) inline: a call per field read is most of what a
        # condition costs.
        key = self.const(node.attr)
        if isinstance(node.node, nodes.Name):
            obj = self.name(node.node.name)
            self.dict_roots.add(obj)
            return f"({obj}[{key}] if d_{obj} and {key} in {obj} else _ga({obj}, {key}))"
        inner = self.expr(node.node)
        self.temps += 1
        obj = f"t{self.temps}"
        test = f"_type({obj} := {inner}) is _dict and {key} in {obj}"
        return f"({obj}[{key}] if {test} else _ga({obj}, {key}))"

    def visit_Getitem(self, node: nodes.Getitem) -> str:
        arg = node.arg
        # Like Jinja's code: a slice indexes directly, anything else goes through the sandbox.
        obj = self.expr(node.node)
        if isinstance(arg, nodes.Slice):
            parts = [
                self.expr(part) if part is not None else ""
                for part in (arg.start, arg.stop, arg.step)
            ]
            return f"({obj})[{':'.join(parts)}]"
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            public(arg.value, node.lineno, "[")
            self.read(node.node, arg.value, False)
        return f"_gi({obj}, {self.expr(arg)})"

    def visit_Compare(self, node: nodes.Compare) -> str:
        ops = "".join(f" {_OPERATORS[op.op]} {self.expr(op.expr)}" for op in node.ops)
        return f"({self.expr(node.expr)}{ops})"

    def visit_Concat(self, node: nodes.Concat) -> str:
        return f"_join(({''.join(self.expr(n) + ', ' for n in node.nodes)}))"

    def visit_CondExpr(self, node: nodes.CondExpr) -> str:
        test, then = self.expr(node.test), self.expr(node.expr1)
        if node.expr2 is not None:
            other = self.expr(node.expr2)
        else:
            other = f"_no_else({self.const(node.lineno)})"
        return f"({then} if {test} else {other})"

    def visit_Tuple(self, node: nodes.Tuple) -> str:
        items = [self.expr(item) for item in node.items]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"

    def visit_List(self, node: nodes.List) -> str:
        return f"[{', '.join(self.expr(item) for item in node.items)}]"

    def visit_Dict(self, node: nodes.Dict) -> str:
        pairs = (f"{self.expr(p.key)}: {self.expr(p.value)}" for p in node.items)
        return "{" + ", ".join(pairs) + "}"

    def visit_Filter(self, node: nodes.Filter) -> str:
        return self._apply(node, self.env.filters, "filter")

    def visit_Test(self, node: nodes.Test) -> str:
        return self._apply(node, self.env.tests, "test")

    def _apply(self, node: nodes.Filter | nodes.Test, registry: dict, kind: str) -> str:
        func = registry.get(node.name)
        if func is None:
            raise Rejected(f"unknown {kind} '{node.name}'", node.lineno, node.name)
        slot = self.const(func)
        first = {
            _PassArg.context: "_CTX, ",
            _PassArg.eval_context: "_EVAL, ",
            _PassArg.environment: "_ENV, ",
        }.get(_PassArg.from_obj(func), "")
        return f"{slot}({first}{self.expr(node.node)}{self._arguments(node, ', ')})"

    def visit_Call(self, node: nodes.Call) -> str:
        target = node.node
        if isinstance(target, nodes.Getattr):
            if target.attr not in METHODS:
                raise Rejected(
                    f"'{target.attr}()' cannot be called here; the methods an expression may "
                    f"call: {', '.join(sorted(METHODS))}",
                    node.lineno,
                    target.attr,
                    ".",
                )
            public(target.attr, node.lineno, ".")
            obj = self.expr(target.node)
            return f"_call({obj}, {self.const(target.attr)}{self._arguments(node, ', ')})"
        if isinstance(target, nodes.Name) and target.name in FUNCTIONS:
            return f"_G[{self.const(target.name)}]({self._arguments(node, '')})"
        token = target.name if isinstance(target, nodes.Name) else "("
        raise Rejected(
            "calls are not allowed here; use a filter instead, e.g. `value | round(1)`",
            node.lineno,
            token,
        )

    def _arguments(self, node: nodes.Call | nodes.Filter | nodes.Test, lead: str) -> str:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            raise Rejected(
                "unpacking arguments (*args, **kwargs) is not allowed here", node.lineno, "*"
            )
        parts = [self.expr(arg) for arg in node.args]
        extra = {}
        for kw in node.kwargs:
            if kw.key.isidentifier() and not keyword.iskeyword(kw.key):
                parts.append(f"{kw.key}={self.expr(kw.value)}")
            else:
                extra[kw.key] = self.expr(kw.value)
        if extra:
            pairs = (f"{self.const(k)}: {v}" for k, v in extra.items())
            parts.append("**{" + ", ".join(pairs) + "}")
        return lead + ", ".join(parts) if parts else ""


def _compiled(source: str, fn: Callable[[dict[str, Any]], Any], gen: _Generator) -> Compiled:
    attrs = tuple((root, key) for root, key, attr in gen.reads if attr)
    every = tuple(dict.fromkeys((root, key) for root, key, _ in gen.reads))
    return Compiled(source, fn, attrs, every)


class Compiler:
    """Compiles Jinja expression nodes (and text-only templates) for one environment."""

    def __init__(self, env: SandboxedEnvironment):
        self.env = env
        self.runtime = _runtime(env)
        # A maker of functions per shape of expression; each function gets its constants as
        # cells, so a rule set's many `x > N` conditions are compiled by Python once.
        self.makers: dict[str, Callable[..., Callable[[dict[str, Any]], Any]]] = {}

    def expression(self, source: str, node: nodes.Expr) -> Compiled:
        gen = _Generator(self.env)
        try:
            body = gen.expr(node)
        except RecursionError as exc:
            raise Rejected("the expression is nested too deeply", 1) from exc
        fn = self._build(gen, [f"    return {body}"])
        return _compiled(source, fn, gen)

    def template(self, source: str, ast: nodes.Template) -> Compiled | None:
        """A template of only text and `{{ expr }}` outputs; None when it holds anything else
        (blocks, `{% if %}`, `{% set %}`...), which Jinja then renders itself."""
        parts: list[nodes.Node] = []
        for stmt in ast.body:
            if not isinstance(stmt, nodes.Output):
                return None
            parts += stmt.nodes
        gen = _Generator(self.env)
        pieces = []
        for part in parts:
            if isinstance(part, nodes.TemplateData):
                pieces.append(gen.const(part.data))
            else:
                # Jinja outputs str() of each value: None shows as "None", a missing value
                # (StrictUndefined) raises.
                pieces.append(f"_str({gen.expr(part)})")
        fn = self._build(gen, [f"    return {' + '.join(pieces) or repr('')}"])
        return _compiled(source, fn, gen)

    def _build(self, gen: _Generator, body: list[str]) -> Callable[[dict[str, Any]], Any]:
        inner = ["    def _f(c):", *("    " + line for line in (*gen.prologue(), *body))]
        params = ", ".join(f"_k{i}" for i in range(len(gen.values)))
        source = "\n".join([f"def _make({params}):", *inner, "    return _f"])
        make = self.makers.get(source)
        if make is None:
            try:
                module = compile(source, "<rule expression>", "exec")
            except (SyntaxError, RecursionError, MemoryError) as exc:
                raise Rejected("the expression is nested too deeply", 1) from exc
            # One globals dict (the helpers) for every function, so Python's caches of global
            # lookups stay valid from one rule's condition to the next; the maker is built from
            # its code directly, which leaves that dict alone (and safe to share across threads).
            code = next(c for c in module.co_consts if isinstance(c, CodeType))
            make = FunctionType(code, self.runtime)
            if len(self.makers) >= 4096:
                self.makers.clear()
            self.makers[source] = make
        return make(*gen.values)
