"""A rule's versions: its history, the difference between two, and going back to one.

Every version ever stored is kept (`rule_versions`, with who stored it and when), and each
firing names the version it ran (`firings.rule_digest`). Going back makes an old version the
current one; workflows already running keep the version they started with, since their plan
is their input. Authors number versions; two texts may share a number (saved without a bump),
so a version is named by its number (the latest text with it) or by a digest prefix.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.store.models import Firing, Rule, RuleVersion


class VersionError(LookupError):
    """No such rule or version; the message says what exists."""


@dataclass
class VersionInfo:
    version: int
    digest: str
    created_at: datetime
    created_by: str | None
    current: bool
    firings: int

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "digest": self.digest,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "current": self.current, "firings": self.firings}


def rule_or_error(session: Session, rule_id: str) -> Rule:
    rule = session.get(Rule, rule_id)
    if rule is None:
        known = ", ".join(session.scalars(select(Rule.id).order_by(Rule.id))) or "none"
        raise VersionError(f"no rule {rule_id!r} (stored rules: {known})")
    return rule


def history(session: Session, rule_id: str) -> list[VersionInfo]:
    """Every stored version of the rule, oldest first, with how often each fired."""
    rule = rule_or_error(session, rule_id)
    counts = dict(session.execute(
        select(Firing.rule_digest, func.count())
        .where(Firing.rule_id == rule_id, Firing.status != "held_out")
        .group_by(Firing.rule_digest)).all())
    rows = session.scalars(select(RuleVersion).where(RuleVersion.rule_id == rule_id)
                           .order_by(RuleVersion.created_at, RuleVersion.version))
    return [VersionInfo(v.version, v.digest, v.created_at, v.created_by,
                        v.digest == rule.current_digest, counts.get(v.digest, 0)) for v in rows]


def find_version(session: Session, rule_id: str, name: str | int) -> RuleVersion:
    """The version a person names: `3` (the latest text numbered 3), or a digest prefix."""
    rule_or_error(session, rule_id)
    versions = list(session.scalars(select(RuleVersion).where(RuleVersion.rule_id == rule_id)
                                    .order_by(RuleVersion.created_at)))
    text = str(name).strip().removeprefix("v")
    if text.isdigit():
        numbered = [v for v in versions if v.version == int(text)]
        if numbered:
            return numbered[-1]
    found = [v for v in versions if len(text) >= 4 and v.digest.startswith(text)]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(f"{v.version} ({v.digest[:8]})" for v in versions)
    hint = "several versions have that digest prefix" if found else f"stored: {listed}"
    raise VersionError(f"{rule_id} has no version {name!r}; {hint}")


def diff(session: Session, rule_id: str, old: str | int, new: str | int) -> str:
    """A unified diff of two versions' texts (empty when they are the same)."""
    a, b = find_version(session, rule_id, old), find_version(session, rule_id, new)
    return "".join(difflib.unified_diff(
        _lines(a.source_text), _lines(b.source_text),
        fromfile=f"{rule_id} v{a.version} ({a.digest[:8]})",
        tofile=f"{rule_id} v{b.version} ({b.digest[:8]})"))


def side_by_side(old_text: str, new_text: str) -> list[tuple[str, str, str]]:
    """(kind, old line, new line) rows for a two-column view; kind: same, changed, added,
    removed."""
    a, b = old_text.splitlines(), new_text.splitlines()
    rows: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [("same", x, x) for x in a[i1:i2]]
            continue
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            old = left[k] if k < len(left) else None
            new = right[k] if k < len(right) else None
            kind = "changed" if old is not None and new is not None else (
                "removed" if new is None else "added")
            rows.append((kind, old or "", new or ""))
    return rows


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines
