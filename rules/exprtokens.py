"""Jinja parsing that keeps each token's offset, so a problem can name its line and column.

Jinja's parser knows only line numbers; feeding it the lexer's tokens through a recorder keeps
where each started, and the helpers below find the token a message is about, list a parsed
tree's nodes and what it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, nodes
from jinja2.lexer import TokenStream
from jinja2.parser import Parser

Tokens = list[tuple[int, str, str]]  # (offset, type, text)
Error = tuple[str, int, int]  # (message, line, col)


def normalize(src: str) -> str:
    # The lexer joins lines with "\n"; offsets are counted in that form.
    return src.replace("\r\n", "\n").replace("\r", "\n")


class _Recorder:
    """Yields raw lexer tokens and remembers where each starts, for column numbers."""

    def __init__(self, env: Environment, src: str):
        self.tokens: Tokens = []  # (offset, type, text)
        self.offset = 0
        self.lex_failed = False
        self._raw = env.lexer.tokeniter(src, None, None, None)

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


def parse(env: Environment, src: str) -> tuple[Tokens, nodes.Template | None, Error | None]:
    """The tokens (for columns) and the AST of a template, or where and why it fails."""
    recorder = _Recorder(env, src)
    try:
        parser = Parser(env, "")
        parser.stream = TokenStream(env.lexer.wrap(iter(recorder)), None, None)
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
        line, col = line_col(src, offset)
        return recorder.tokens, None, (message, line, col)
    return recorder.tokens, ast, None


def line_col(src: str, offset: int) -> tuple[int, int]:
    before = src[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def locate(src: str, tokens: Tokens, name: str, after: str | None = None) -> tuple[int, int]:
    """Where `name` first appears as a name token (after `<after>.` when given)."""
    significant = [t for t in tokens if t[1] != "whitespace"]
    for i, (offset, kind, text) in enumerate(significant):
        if text != name and text.strip("'\"") != name:
            continue
        if after is None and kind == "name":
            if i == 0 or significant[i - 1][2] != ".":
                return line_col(src, offset)
        elif after is not None and i >= 2 and significant[i - 2][2] == after:
            return line_col(src, offset)
    return 1, 1


def locate_after(src: str, tokens: Tokens, text: str, before: str | None) -> tuple[int, int] | None:
    """Where `text` first appears as a token, right after `before` when that is given."""
    significant = [t for t in tokens if t[1] != "whitespace"]
    for i, (offset, _, token) in enumerate(significant):
        matches = token == text or (token[:1] in "'\"" and token[1:-1] == text)
        if matches and (before is None or (i and significant[i - 1][2] == before)):
            return line_col(src, offset)
    return None


def tidy(message: str, expression: bool) -> str:
    """Jinja's syntax error message in words an author of one expression can act on."""
    message = re.sub(r" at \d+$", "", message)
    if message in ('unexpected char "\'"', "unexpected char '\"'"):
        return "a quoted text is not closed"
    if not expression:
        return message
    if message == "unexpected 'end of print statement'":
        return "the expression ends too early"
    message = message.replace("unexpected '}'", "the expression ends early")
    if message == "chunk after expression":
        return "unexpected text after the expression"
    message = message.replace("'end of print statement'", "the end of the expression")
    message = re.sub(
        r"expected token the end of the expression, got '(.+)'",
        r"unexpected '\1'; is an operator (and, or, ==) missing?",
        message,
    )
    return message.replace("end of template", "end of the expression")


def descendants(node: nodes.Node) -> list[nodes.Node]:
    """Every node below `node`, in the order `node.find_all` yields them, in one pass."""
    found: list[nodes.Node] = []
    node_type = nodes.Node

    def visit(parent: nodes.Node) -> None:
        for name in parent.fields:
            value = getattr(parent, name, None)
            if isinstance(value, node_type):
                found.append(value)
                visit(value)
            elif type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        found.append(item)
                        visit(item)

    visit(node)
    return found


def reads(node: nodes.Node) -> tuple[tuple[str, str], ...]:
    """(root, key) for every `root.key` or `root['key']` under `node`."""
    found: list[tuple[str, str]] = []
    for read in descendants(node):
        if not isinstance(read, nodes.Getattr | nodes.Getitem):
            continue
        if not isinstance(read.node, nodes.Name):
            continue
        if isinstance(read, nodes.Getattr):
            key = read.attr
        elif isinstance(read.arg, nodes.Const) and isinstance(read.arg.value, str):
            key = read.arg.value
        else:
            continue
        if (read.node.name, key) not in found:
            found.append((read.node.name, key))
    return tuple(found)


def attribute_chain(node: nodes.Node) -> list[str] | None:
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


NOT_LITERAL = object()
_LITERAL_NODES = (nodes.Const, nodes.List, nodes.Tuple, nodes.Dict, nodes.Pair, nodes.Neg,
                  nodes.Pos, nodes.Output, nodes.Template)


def literal_of(ast: nodes.Template) -> Any:
    """The value of `{{ literal }}` (strings, numbers, lists, mappings), else NOT_LITERAL."""
    output = ast.body[0] if len(ast.body) == 1 else None
    if not isinstance(output, nodes.Output) or len(output.nodes) != 1:
        return NOT_LITERAL
    if not all(isinstance(n, _LITERAL_NODES) for n in descendants(output)):
        return NOT_LITERAL
    try:
        value = output.nodes[0].as_const()
    except nodes.Impossible:
        return NOT_LITERAL
    # Only JSON values: a plan travels through workflow history as JSON.
    return list(value) if isinstance(value, tuple) else value
