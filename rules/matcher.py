"""Stage 7: which rules an event (or a schedule tick) fires, and under which dedupe key.

Rules are indexed by trigger event type and their `when` conditions compiled once, when the
index is built, to Python functions of one flat context; matching an event builds that context
once and calls them. One rule failing to evaluate (say, a field the producer left out) is
reported next to the matches and never hides the other rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2.runtime import Undefined

from wendu.rules.expressions import (
    compiled_expression,
    defined,
    flat_context,
    referenced_fields,
    renderer,
    template_names,
)
from wendu.rules.plan import EventTrigger, Plan, ScheduleTrigger


@dataclass(frozen=True)
class Match:
    plan: Plan
    dedupe_key: str
    # Each `when` condition with its outcome (always True in a match), in rule order.
    matched: list[tuple[str, bool]]
    # 'profile.overtime_hours_7d' -> 23.5: the facts the conditions read, for the "why" line.
    values: dict[str, Any]

    @property
    def workflow_id(self) -> str:
        return f"rule/{self.plan.rule_id}/{self.dedupe_key}"

    @property
    def why(self) -> str:
        """'overtime-care v1: profile.overtime_hours_7d > 20 (profile.overtime_hours_7d=23.5)'."""
        conditions = "; ".join(src for src, _ in self.matched) or "no conditions"
        facts = ", ".join(f"{k}={v}" for k, v in self.values.items())
        head = f"{self.plan.rule_id} v{self.plan.version}: {conditions}"
        return f"{head} ({facts})" if facts else head


@dataclass(frozen=True)
class MatchError:
    rule_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}"


class EvaluationError(Exception):
    def __init__(self, rule_id: str, message: str):
        super().__init__(f"{rule_id}: {message}")
        self.rule_id = rule_id
        self.message = message


@dataclass
class MatchResult:
    """The matches (iterate or index it like a list) and the rules that failed to evaluate."""

    matches: list[Match] = field(default_factory=list)
    errors: list[MatchError] = field(default_factory=list)
    # Rules not evaluated because the event was older than their freshness window.
    stale: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Match]:
        return iter(self.matches)

    def __len__(self) -> int:
        return len(self.matches)

    def __getitem__(self, index: int) -> Match:
        return self.matches[index]


class _CompiledRule:
    __slots__ = (
        "plan",
        "rule_ctx",
        "tables",
        "checks",
        "sources",
        "fields",
        "dedupe",
        "render_dedupe",
        "dedupe_shared",
    )

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rule_ctx = rule_context(plan)
        self.tables = dict(plan.tables)
        self.sources = [expr.source for expr in plan.when]
        self.checks = [compiled_expression(source).fn for source in self.sources]
        self.fields = [
            (name, *name.split(".", 1))
            for source in self.sources
            for name in referenced_fields(source)
        ]
        self.dedupe = plan.dedupe.source
        self.render_dedupe = renderer(self.dedupe)
        # A key that reads neither `rule` nor a table is the same for every rule of an event
        # with this template, so the matcher renders it once per event.
        names = template_names(self.dedupe)
        self.dedupe_shared = not self.tables and "rule" not in names and bool(names)

    def holds(self, flat: dict[str, Any]) -> bool:
        """Whether every condition holds in a flat context (`rule` already set).

        Raises EvaluationError naming the condition that could not be evaluated.
        """
        if self.tables:
            # The rule's own tables; another rule's left behind is harmless, as the compiler
            # only lets a rule read the tables it declares.
            flat.update(self.tables)
        for condition in self.checks:
            try:
                value = condition(flat)
                if not value:
                    # A missing value that slipped through (`x if c` without else) is an
                    # error, as it is everywhere else, not a quiet false.
                    if isinstance(value, Undefined):
                        defined(value)
                    return False
            except Exception as exc:  # noqa: BLE001 - any failure is this rule's alone
                index = self.checks.index(condition)
                raise EvaluationError(
                    self.plan.rule_id, f"when[{index}] `{self.sources[index]}`: {exc}"
                ) from exc
        return True

    def match(self, flat: dict[str, Any], keys: dict[str, str] | None = None) -> Match:
        """The match of a rule whose conditions hold; `keys` holds dedupe keys already
        rendered for this event."""
        # Only a match needs its facts; reading them does not change the context.
        values: dict[str, Any] = {}
        for name, root, attr in self.fields:
            container = flat.get(root)
            if type(container) is dict or isinstance(container, Mapping):
                values[name] = container.get(attr)
        key = keys.get(self.dedupe) if keys is not None and self.dedupe_shared else None
        if key is None:
            try:
                key = self.render_dedupe(flat).strip()
            except Exception as exc:  # noqa: BLE001
                message = f"dedupe `{self.dedupe}`: {exc}"
                raise EvaluationError(self.plan.rule_id, message) from exc
            if not key:
                message = f"dedupe `{self.dedupe}` rendered empty"
                raise EvaluationError(self.plan.rule_id, message)
            if keys is not None and self.dedupe_shared:
                keys[self.dedupe] = key
        return Match(self.plan, key, [(source, True) for source in self.sources], values)

    def evaluate(self, flat: dict[str, Any]) -> Match | None:
        """The match in a flat context (`rule` already set), None when a condition fails."""
        return self.match(flat) if self.holds(flat) else None


def rule_context(plan: Plan) -> dict[str, Any]:
    """What expressions see as `rule`."""
    return {"id": plan.rule_id, "version": plan.version, "title": plan.title.model_dump()}


class RuleIndex:
    def __init__(self, plans: Iterable[Plan], max_age: int | None = None):
        """`max_age`: the freshness window (seconds) of the rules that set none; live ingest
        passes the site's (`Settings.max_event_age`, `wendu.rules.freshness`). None: only
        the rules' own `max_age` apply."""
        self.max_age = max_age
        self._by_event: dict[str, list[_CompiledRule]] = {}
        self._schedules: list[Plan] = []
        for plan in plans:
            if not plan.enabled:
                continue
            if isinstance(plan.trigger, EventTrigger):
                self._by_event.setdefault(plan.trigger.event, []).append(_CompiledRule(plan))
            elif isinstance(plan.trigger, ScheduleTrigger):
                self._schedules.append(plan)
                _compiled(plan)
        # Per event type, (rule id, window) of the rules with a freshness window: ingest asks
        # for every event, and most rules have none.
        self._windows = {
            event: [(r.plan.rule_id, w) for r in rules if (w := self.window(r.plan)) is not None]
            for event, rules in self._by_event.items()
        }

    def __len__(self) -> int:
        return sum(len(rules) for rules in self._by_event.values()) + len(self._schedules)

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_event)

    @property
    def schedules(self) -> list[Plan]:
        return list(self._schedules)

    def rules_for(self, event_type: str) -> list[Plan]:
        return [rule.plan for rule in self._by_event.get(event_type, ())]

    def window(self, plan: Plan) -> int | None:
        """How old (seconds) an event may be and still fire `plan`; None: any age."""
        if plan.max_age_seconds is None:
            return self.max_age
        return plan.max_age_seconds or None

    def stale_for(self, event_type: str, age: float | None) -> list[str]:
        """The rules of `event_type` an event `age` seconds old when it arrived is too old
        for (none when its age is unknown)."""
        if age is None:
            return []
        return [rule_id for rule_id, w in self._windows.get(event_type, ()) if age > w]

    def match(self, event_type: str, ctx: Mapping[str, Any],
              age: float | None = None, stale: list[str] | None = None) -> MatchResult:
        """Matches of the enabled rules triggered by `event_type` for one runtime context;
        `age`: seconds from when the event happened to when it arrived (rules it is too old
        for are listed in `stale`, not evaluated); `stale`: those rules, when the caller
        has asked `stale_for` already."""
        result = MatchResult()
        rules = self._by_event.get(event_type)
        if not rules:
            return result
        stale = set(self.stale_for(event_type, age) if stale is None else stale)
        if stale:
            result.stale = [r.plan.rule_id for r in rules if r.plan.rule_id in stale]
            rules = [r for r in rules if r.plan.rule_id not in stale]
        # One context shared by every rule: only `rule` changes between them, and compiled
        # expressions only read it (no method that changes its object may be called).
        flat = flat_context(ctx)
        keys: dict[str, str] = {}
        for rule in rules:
            flat["rule"] = rule.rule_ctx
            try:
                if rule.holds(flat):
                    result.matches.append(rule.match(flat, keys))
            except EvaluationError as exc:
                result.errors.append(MatchError(exc.rule_id, exc.message))
        return result


_SCHEDULE_CACHE: dict[tuple[str, int, str], _CompiledRule] = {}


def _compiled(plan: Plan) -> _CompiledRule:
    # The digest identifies a compiled version; plans built by hand have none.
    key = (plan.rule_id, plan.version, plan.digest or str(id(plan)))
    rule = _SCHEDULE_CACHE.get(key)
    if rule is None:
        rule = _SCHEDULE_CACHE[key] = _CompiledRule(plan)
    return rule


def matches_for_schedule(plan: Plan, ctx: Mapping[str, Any]) -> Match | None:
    """Evaluate a rule (usually a schedule rule) for one employee's context.

    `ctx` holds `schedule` ({"fire_time": ISO string}), `employee` and `profile`; `rule` is
    added here. Returns None when a condition is false; raises EvaluationError on failure.
    """
    rule = _compiled(plan)
    flat = flat_context(ctx)
    flat["rule"] = rule.rule_ctx
    return rule.evaluate(flat)
