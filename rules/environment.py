"""The sandboxed Jinja environment every rule expression and message template runs in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wendu.localize import MESSAGE_FILTERS
from wendu.rules import bounds
from wendu.rules.durations import iso_week, to_date

# Message templates share this environment, so their date, duration and label filters
# (wendu/localize.py) are checked by the compiler like any other.
FILTERS: dict[str, Callable[..., Any]] = {"iso_week": iso_week, "date": to_date, **MESSAGE_FILTERS}


class RuleEnvironment(ImmutableSandboxedEnvironment):
    """Immutable: one context object is shared by every rule matched against an event, so an
    expression must not be able to append to a list in it. The operators that can build a
    large value check its size first (rules/bounds.py); intercepting them also stops Jinja's
    optimizer from computing `'a' * 10**9` while it compiles a template."""

    intercepted_binops = frozenset(bounds.BINOPS)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return bounds.BINOPS[operator](left, right)


def make_environment(**options: Any) -> ImmutableSandboxedEnvironment:
    env = RuleEnvironment(undefined=StrictUndefined, **options)
    env.filters.update(bounds.guarded_filters())
    env.filters.update(FILTERS)
    return env


ENV = make_environment()
