"""What the console's rule editor checks beyond the compiler: the rule set's groups (so the
editor agrees with `wendu rules validate`), an id that does not belong in this editor, a
changed rule saved without a new version number, and the file's own line endings."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from wendu.rules.errors import RuleError
from wendu.rules.plan import Plan
from wendu.store.models import Rule, RuleVersion


def rule_groups(request: Request) -> list[str]:
    """The groups the rule folder declares (`_groups.yaml`), as the CLI sees them."""
    from wendu.rules.ruleset import declared_groups

    folder = request.app.state.settings.rules_dir
    return sorted(declared_groups(folder)) if folder is not None and folder.is_dir() else []


def lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def with_line_endings_of(old: bytes, text: str) -> str:
    """`text` (LF) with the line endings `old` has: CRLF only for a file that has them."""
    return text.replace("\n", "\r\n") if b"\r\n" in old else text


def _key_line(source: str, key: str) -> tuple[int, int]:
    """Line and column of a top-level key (1, 1 when it is not written out)."""
    for n, line in enumerate(source.splitlines(), 1):
        if re.match(rf"{key}\s*:", line):
            return n, 1
    return 1, 1


def _problem(source: str, key: str, message: str, severity: Any) -> RuleError:
    line, col = _key_line(source, key)
    return RuleError("rule.yaml", line, col, message, severity)


def editor_problems(session: Session, rule_id: str | None, plan: Plan | None, source: str,
                    severity: Any = "warning") -> list[RuleError]:
    """Another rule's id, or changed content under the stored version number: warnings
    while editing, errors (`severity`) that stop a save."""
    if plan is None:
        return []
    out: list[RuleError] = []
    if rule_id is not None and plan.rule_id != rule_id:
        out.append(_problem(source, "id", (
            f"this editor is for rule '{rule_id}'; the id '{plan.rule_id}' would not change "
            f"it but save another rule: keep `id: {rule_id}`, or use New rule"), severity))
        return out
    stored = session.get(Rule, plan.rule_id)
    if rule_id is None and stored is not None:
        out.append(_problem(source, "id", (
            f"rule '{plan.rule_id}' exists already: choose another id, or open that rule to "
            "change it"), severity))
    elif stored is not None and session.get(RuleVersion, (plan.rule_id, plan.digest)) is None \
            and plan.version <= stored.version:
        out.append(_problem(source, "version", (
            f"the rule changed but its version is still {plan.version}: set "
            f"`version: {stored.version + 1}` to save it, so people can tell the two apart"),
            severity))
    return out
