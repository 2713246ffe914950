"""What the expression compiler refuses before generating code: private names and
constants too large to build.

Both walk a parsed Jinja tree: rules/pyexpr.py calls them on the expression it compiles and
rules/expressions.py on every template it checks, including those Jinja renders itself.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes

from wendu.rules import bounds

# The operators that can build a large value call a helper that checks its size first.
SIZED = {nodes.Add: "+", nodes.Mul: "*", nodes.Mod: "%", nodes.Pow: "**"}


class Rejected(Exception):
    """A construct the compiled language refuses; `token` is the text to point at and
    `before` the token written just before it ('.', '[', or None for a plain name)."""

    def __init__(
        self, message: str, lineno: int, token: str | None = None, before: str | None = None
    ):
        super().__init__(message)
        self.message, self.lineno, self.token, self.before = message, lineno, token, before


def public(name: str, lineno: int, before: str) -> None:
    if name.startswith("_"):
        raise Rejected(
            f"'{name}' cannot be read: names starting with '_' are private", lineno, name, before
        )


NOT_CONSTANT = object()


def constant(node: nodes.Node, seen: set[int]) -> Any:
    """The value of a tree of literals and operators, computed with the checks the compiled
    function would make (so never more work than they allow); NOT_CONSTANT otherwise."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg | nodes.Pos):
        value = constant(node.node, seen)
        numeric = isinstance(value, int | float) and value is not NOT_CONSTANT
        return (-value if isinstance(node, nodes.Neg) else value) if numeric else NOT_CONSTANT
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [constant(item, seen) for item in node.items]
        return NOT_CONSTANT if NOT_CONSTANT in items else tuple(items)
    if type(node) not in SIZED:
        return NOT_CONSTANT
    seen.add(id(node))
    left = constant(node.left, seen)
    right = constant(node.right, seen) if left is not NOT_CONSTANT else NOT_CONSTANT
    if right is NOT_CONSTANT:
        return NOT_CONSTANT
    operator = SIZED[type(node)]
    try:
        return bounds.BINOPS[operator](left, right)
    except bounds.TooLarge as exc:
        raise Rejected(str(exc), node.lineno, operator) from None
    except Exception:  # noqa: BLE001 - a type error and the like is the run's to report
        return NOT_CONSTANT


# Filters that read an attribute named by a text argument: `x | attr('name')`,
# `xs | map(attribute='a.b')`, `xs | selectattr('a')`, `xs | sort(attribute='a')`.
_ATTRIBUTE_FILTERS = frozenset(
    {"attr", "map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max"}
)


def private_reads(below: list[nodes.Node]) -> list[Rejected]:
    """Every read of a private name among `below` (`''.__class__`, `x['_y']`,
    `x | attr('__class__')`), in any expression or template: the sandbox would refuse each
    when it runs, so the author hears of it now."""
    found = []
    for node in below:
        # (name, the token to point at, the token before it)
        names: list[tuple[str, str, str | None]] = []
        if isinstance(node, nodes.Getattr):
            names.append((node.attr, node.attr, "."))
        elif isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                names.append((node.arg.value, node.arg.value, "["))
        elif isinstance(node, nodes.Filter) and node.name in _ATTRIBUTE_FILTERS:
            texts = [*node.args, *(kw.value for kw in node.kwargs if kw.key == "attribute")]
            for arg in texts:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                    names += [(part, arg.value, None) for part in arg.value.split(".")]
        for name, token, before in names:
            try:
                public(name, node.lineno, before or "")
            except Rejected as exc:
                exc.token, exc.before = token, before
                found.append(exc)
    return found


def constant_problems(below: list[nodes.Node]) -> list[Rejected]:
    """The operators among `below` (a parse's nodes, top-down) whose constants would build a
    value too large, e.g. in a template Jinja renders itself."""
    seen: set[int] = set()
    found = []
    for node in below:
        if type(node) in SIZED and id(node) not in seen:
            try:
                constant(node, seen)
            except Rejected as exc:
                found.append(exc)
    return found
