"""Stage 1: YAML text -> plain Python data plus the line and column of every key and value.

PyYAML's composer gives nodes with marks; we convert them ourselves instead of using
`safe_load` so every later stage can point at the exact place an author has to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wendu.rules.errors import RuleError, RuleErrors, Severity

Loc = tuple[str | int, ...]
Pos = tuple[int, int]


@dataclass
class LoadedDoc:
    data: Any
    path: str
    text: str
    # Mapping entries: where the key is written. Sequence items: where the item starts.
    key_positions: dict[Loc, Pos] = field(default_factory=dict)
    value_positions: dict[Loc, Pos] = field(default_factory=dict)
    # The scalar style of each value: None (plain), "'", '"', "|" or ">".
    styles: dict[Loc, str | None] = field(default_factory=dict)

    def pos(self, path: Loc) -> Pos:
        """Where `path` is written: its key, else its value, else its nearest ancestor."""
        path = tuple(path)
        while path:
            if path in self.key_positions:
                return self.key_positions[path]
            if path in self.value_positions:
                return self.value_positions[path]
            path = path[:-1]
        return self.value_positions.get((), (1, 1))

    def value_pos(self, path: Loc) -> Pos:
        path = tuple(path)
        return self.value_positions.get(path) or self.pos(path)

    def expr_pos(self, path: Loc, line: int, col: int) -> Pos:
        """Map a (line, col) inside the scalar at `path` to a position in the file.

        Exact for one-line plain and quoted scalars; for block and folded multi-line scalars
        we land on the right line and count from its indentation, which is close enough.
        """
        vline, vcol = self.value_pos(path)
        style = self.styles.get(tuple(path))
        if style in ("|", ">"):
            target = vline + line
        elif line == 1:
            return vline, vcol + col - 1 + (1 if style in ("'", '"') else 0)
        else:
            target = vline + line - 1
        lines = self.text.splitlines()
        if 0 < target <= len(lines):
            text_line = lines[target - 1]
            return target, len(text_line) - len(text_line.lstrip(" ")) + col
        return vline, vcol

    def error(
        self, path: Loc, message: str, *, value: bool = False, severity: Severity = "error"
    ) -> RuleError:
        line, col = self.value_pos(path) if value else self.pos(path)
        return RuleError(self.path, line, col, message, severity)

    def error_at(self, pos: Pos, message: str, severity: Severity = "error") -> RuleError:
        return RuleError(self.path, pos[0], pos[1], message, severity)


# libyaml composes several times faster (a reload of 1,000 rules spends most of its YAML time
# here); its nodes carry the same marks. Its error messages are not PyYAML's, so a text it
# refuses is read again by PyYAML, whose messages the hints below are written for.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> Node | None:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load(text: str, path: str = "<rule>") -> LoadedDoc:
    """Parse YAML text; raise `RuleErrors` for syntax errors and duplicate keys."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        raise RuleErrors([_syntax_error(exc, path)]) from None
    except yaml.YAMLError as exc:
        raise RuleErrors([RuleError(path, 0, 0, f"invalid YAML: {exc}")]) from None
    doc = LoadedDoc(data=None, path=path, text=text)
    if root is None:
        return doc
    converter = _Converter(doc)
    doc.value_positions[()] = _mark(root)
    try:
        doc.data = converter.convert(root, ())
    except _TooLarge:
        raise RuleErrors([RuleError(path, 1, 1, "the file is too large (or its aliases expand "
                                    f"to more than {MAX_NODES} values)")]) from None
    if converter.problems:
        raise RuleErrors(converter.problems)
    return doc


def _mark(node: Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _style(node: Node) -> str | None:
    # libyaml marks a plain scalar with "", PyYAML with None.
    return getattr(node, "style", None) or None


def _syntax_error(exc: yaml.MarkedYAMLError, path: str) -> RuleError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    problem = exc.problem or "syntax error"
    message = f"invalid YAML: {problem}"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    if "'\\t'" in problem:
        message += "; indent with spaces, not tabs"
    return RuleError(path, line, col, message)


# Aliases can make a small file expand enormously ("billion laughs"); no rule comes near this.
MAX_NODES = 100_000


_STR = "tag:yaml.org,2002:str"


class _TooLarge(Exception):
    pass


class _Converter:
    def __init__(self, doc: LoadedDoc):
        self.doc = doc
        self.constructor = SafeConstructor()
        self.problems: list[RuleError] = []
        self.count = 0
        self.active: set[int] = set()

    def convert(self, node: Node, path: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if id(node) in self.active:
            self.problems.append(self.doc.error_at(_mark(node), "an alias refers to itself"))
            return None
        if isinstance(node, MappingNode | SequenceNode):
            self.active.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self.active.discard(id(node))
        if node.tag == _STR:
            return node.value  # what SafeConstructor returns for text, without its bookkeeping
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            # e.g. `2026-02-30` looks like a date to YAML, or an unknown `!tag`.
            problem = getattr(exc, "problem", None) or str(exc)
            message = f"cannot read this value: {problem}"
            self.problems.append(self.doc.error_at(_mark(node), message))
            return node.value

    def _collection(self, node: MappingNode | SequenceNode, path: Loc) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        items = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            self.doc.key_positions[item_path] = _mark(item)
            self.doc.value_positions[item_path] = _mark(item)
            self.doc.styles[item_path] = _style(item)
            items.append(self.convert(item, item_path))
        return items

    def _mapping(self, node: MappingNode, path: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, Pos] = {}
        for key_node, value_node in node.value:
            key_pos = _mark(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problems.append(self.doc.error_at(key_pos, "a key must be plain text"))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(self.doc.error_at(key_pos, "merge keys (<<) are not allowed"))
                continue
            # Keys stay text: YAML 1.1 would turn `on:` or `no:` into booleans.
            key = key_node.value
            if key in first_seen:
                first = first_seen[key][0]
                message = f"duplicate key '{key}' (first written at line {first})"
                self.problems.append(self.doc.error_at(key_pos, message))
                continue
            first_seen[key] = key_pos
            child = (*path, key)
            self.doc.key_positions[child] = key_pos
            self.doc.value_positions[child] = _mark(value_node)
            self.doc.styles[child] = _style(value_node)
            out[key] = self.convert(value_node, child)
        return out
