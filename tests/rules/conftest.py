"""Helpers for the rule-language tests: a valid rule to start from and a way to see problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wendu.rules.compiler import check
from wendu.rules.loader import load

REPO = Path(__file__).resolve().parents[2]

# A small valid event rule; tests change one thing and look at what the author would see.
BASE_RULE = """\
id: test-rule
version: 1
title: {zh: 测试, en: Test}
trigger: {event: attendance.day_closed}
when:
  - profile.overtime_hours_7d > 20
dedupe: "{{ employee.id }}/{{ event.day | iso_week }}"
steps:
  - notify: {to: manager, channels: [inapp], template: overtime_manager}
"""


def make_rule(steps: str = "", **top: str) -> str:
    """BASE_RULE with `steps:` replaced (dedented YAML) and top-level keys overridden."""
    lines = BASE_RULE.splitlines()
    text = "\n".join(lines[: lines.index("steps:")]) + "\n"
    for key, value in top.items():
        text = "\n".join(
            f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines()
        ) + "\n"
        if key == "when":
            text = text.replace("\n  - profile.overtime_hours_7d > 20", "")
    body = textwrap.dedent(steps).strip("\n") or (
        "- notify: {to: manager, channels: [inapp], template: overtime_manager}"
    )
    return text + "steps:\n" + textwrap.indent(body, "  ") + "\n"


def problems_of(text: str, path: str = "r.yaml", **options) -> list[str]:
    """What `wendu rules validate` would print for `text`, one string per problem."""
    return [str(p) for p in check(load(text, path), **options).problems]


@pytest.fixture
def repo() -> Path:
    return REPO


# Fixtures rather than imports: pytest runs with --import-mode=importlib, so test modules
# cannot import this file.
@pytest.fixture
def rule():
    return make_rule


@pytest.fixture
def problems():
    return problems_of
