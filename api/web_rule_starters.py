"""Where a new rule starts in the console: a blank skeleton, or a copy of a shipped rule
(the examples and the rule library) under a new id."""

from __future__ import annotations

import re
from pathlib import Path

import wendu.rules
from wendu.rules.ruleset import EXAMPLES_DIR

LIBRARY_DIR = Path(wendu.rules.__file__).parent / "library"
BLANK = """\
# What the rule is for, in a sentence HR and managers understand.
id: new-rule
version: 1
title: {zh: 新规则, en: New rule}
owner: hr-ops@example.com
trigger: {event: attendance.day_closed}
when:
  - profile.overtime_hours_7d > 20
dedupe: "{{ employee.id }}/{{ event.day | iso_week }}"
steps:
  - notify:
      to: manager
      channels: [inapp]
      template: overtime_manager
"""
# name -> file: each shipped rule, by its file name ("library/overtime_care").
STARTERS: dict[str, Path] = {
    f"{folder.name}/{f.stem}": f
    for folder in (EXAMPLES_DIR, LIBRARY_DIR)
    for f in sorted(folder.glob("*.yaml")) if not f.name.startswith("_")
}


def starter_text(name: str) -> str:
    """The text a new rule starts from: the named shipped rule as a copy (a new id,
    version 1), else the blank skeleton."""
    path = STARTERS.get(name)
    if path is None:
        return BLANK
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^id:\s*(\S+)\s*$", r"id: \1-copy", text, count=1)
    return re.sub(r"(?m)^version:\s*\d+\s*$", "version: 1", text, count=1)
