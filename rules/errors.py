"""Problems found in rule text, each pointing at the YAML an HR author has to change."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(eq=True)
class RuleError(Exception):
    """One problem at `path:line:col` (1-based; 0 when the position is unknown)."""

    path: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        # The compiler-style prefix is what editors and CI logs turn into links.
        where = self.path
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.severity}: {self.message}"

    def __hash__(self) -> int:
        return hash((self.path, self.line, self.col, self.message, self.severity))

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class RuleErrors(Exception):
    """Every problem a stage found; stages collect them so an author fixes all in one pass."""

    def __init__(self, problems: Iterable[RuleError]):
        self.problems = sorted_problems(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> list[RuleError]:
        return [p for p in self.problems if p.is_error]


def sorted_problems(problems: Iterable[RuleError]) -> list[RuleError]:
    """Source order, duplicates removed (one typo used twice is still one message per place)."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.path, p.line, p.col, p.message))


def suggest(word: str, candidates: Iterable[str], label: str = "") -> str:
    """'; did you mean 'x'?' for the nearest candidate, else '; <label>: a, b, c' (or '')."""
    candidates = list(candidates)
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not label or not candidates:
        return ""
    shown = ", ".join(candidates[:12]) + (", ..." if len(candidates) > 12 else "")
    return f"; {label}: {shown}"
