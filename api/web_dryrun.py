"""Checking rule text and dry-running a rule against a sample event, starting nothing.

The dry run builds the context exactly as ingestion does (the event normalised against the
catalog, the employee record, the stored profile with this event folded in), asks a
one-rule index for a match, and renders each `notify` step's template for the people it
would reach. Nothing is stored and no workflow starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from wendu.actions import Walk, planned_actions, template_of
from wendu.activities.people import resolve_roles
from wendu.activities.render import TemplateProblem, get_renderer
from wendu.decide import decide
from wendu.decisions import in_holdout
from wendu.event_models import EventValidationError, parse_event_list
from wendu.ingest import _normalize, employee_dict  # the same normalisation as ingestion
from wendu.rules.compiler import check
from wendu.rules.errors import RuleError, RuleErrors
from wendu.rules.expressions import flat_context
from wendu.rules.loader import load
from wendu.rules.matcher import RuleIndex, rule_context
from wendu.rules.plan import EventTrigger, NotifyStep, Plan
from wendu.rules.templates_catalog import TemplateCatalog
from wendu.store.models import Employee, Profile
from wendu.store.profile import derive, fold_state
from wendu.workflows.io import Firing
from wendu.workflows.why import explain


@dataclass
class Checked:
    plan: Plan | None
    problems: list[RuleError] = field(default_factory=list)

    def by_line(self) -> dict[int, list[RuleError]]:
        out: dict[int, list[RuleError]] = {}
        for p in self.problems:
            out.setdefault(p.line, []).append(p)
        return out


def check_text(text: str, path: str, templates_dir: str) -> Checked:
    """Every problem of a rule text, each on its line (0: the whole file)."""
    try:
        loaded = load(text, path)
    except RuleErrors as exc:
        return Checked(None, exc.problems)
    if not isinstance(loaded.data, dict):
        return Checked(None, [RuleError(path, 1, 1, "a rule is a YAML mapping (id, trigger, "
                                        "when, dedupe, steps)")])
    result = check(loaded, templates=TemplateCatalog(templates_dir))
    return Checked(result.plan, list(result.problems))


@dataclass
class DryRun:
    ok: bool
    fired: bool = False
    dedupe_key: str | None = None
    workflow_id: str | None = None
    matched: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # The person is in the rule's holdout: live ingest would record the firing, send nothing.
    held_out: bool = False


def dry_run(session: Session, plan: Plan, raw_event: Any, templates_dir: str) -> DryRun:
    """Would `plan` fire for this event, under which key, and what would it send?"""
    if not isinstance(plan.trigger, EventTrigger):
        return DryRun(False, errors=["rule: a schedule rule has no event to dry-run against"])
    if not isinstance(raw_event, dict):
        return DryRun(False, errors=["event: a JSON object (id, type, employee_id, "
                                     "occurred_at, data)"])
    raw = {"id": "dry-run", "occurred_at": _now_iso(), **raw_event}
    try:
        ev = _normalize(parse_event_list([raw])[0])
    except EventValidationError as exc:
        return DryRun(False, errors=[f"event.{e['field'].removeprefix('[0].')}: {e['msg']}"
                                     for e in exc.errors])
    if ev.type != plan.trigger.event:
        return DryRun(True, errors=[f"event.type: this rule is triggered by "
                                    f"{plan.trigger.event!r}, not {ev.type!r}"])
    emp = employee_dict(session.get(Employee, ev.employee_id), ev.employee_id)
    row = session.get(Profile, ev.employee_id)
    state = fold_state(dict(row.state) if row else {}, emp, {**ev.envelope(), "data": ev.sent})
    facts = derive(state, emp, ev.occurred_at)  # as of the event, as live ingest reads it
    ctx = {"event": {**ev.full, **ev.envelope()}, "employee": emp, "profile": facts,
           "rule": {}, "vars": {}}
    # The decision path of live ingest: fast scores for the event, then the match.
    result, = decide([(ev.type, ctx)], RuleIndex([plan.model_copy(update={"enabled": True})]))
    if result.errors:
        return DryRun(False, errors=[str(e) for e in result.errors])
    if not result.matches:
        return DryRun(True, fired=False)
    match = result.matches[0]
    out = DryRun(True, fired=True, dedupe_key=match.dedupe_key, workflow_id=match.workflow_id,
                 matched=[src for src, _ in match.matched], values=dict(match.values),
                 held_out=in_holdout(plan.rule_id, ev.employee_id, plan.holdout))
    firing = Firing(rule_id=plan.rule_id, dedupe_key=match.dedupe_key,
                    employee_id=ev.employee_id, event_id=ev.id, matched=out.matched,
                    values=out.values)
    ctx = {**ctx, "rule": rule_context(plan), "why": explain(plan, firing),
           "vars": dict(plan.tables)}
    renderer = get_renderer(templates_dir)
    walk = Walk()
    for step in planned_actions(plan.steps, ctx, walk):
        if not isinstance(step, NotifyStep):
            continue
        template, problem = template_of(step, ctx)
        if problem:
            out.messages.append({"step": step.id, "to": "", "error": problem})
            continue
        people = resolve_roles(session, ev.employee_id, [r.role for r in step.to])
        for reason in people.unresolved:
            out.messages.append({"step": step.id, "to": reason, "error": "nobody to send to"})
        for person in people.people:
            try:
                locale, subject, body = renderer.render(
                    template, person.locale,
                    flat_context({**ctx, "recipient": person.as_recipient()}))
            except TemplateProblem as exc:
                out.messages.append({"step": step.id, "to": person.id, "error": exc.message})
                continue
            out.messages.append({"step": step.id, "to": f"{person.name} ({person.id})",
                                 "role": person.role, "channels": step.channels,
                                 "locale": locale, "subject": subject, "body": body})
    if walk.stopped:
        out.errors.append(walk.stopped)
    return out


# How long the console waits for a check or a dry run. Expressions are bounded in what they
# can build (rules/bounds.py), so this is a backstop; the work runs in a thread either way, so
# the API and the worker sharing its process keep serving meanwhile.
BUDGET_SECONDS = 10.0


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.wait_for(asyncio.to_thread(fn, *args), BUDGET_SECONDS)


def _too_slow(what: str) -> str:
    return (f"{what} took longer than {BUDGET_SECONDS:g} s and was stopped waiting for; "
            "simplify the rule's expressions")


async def check_in_thread(text: str, path: str, templates_dir: str) -> Checked:
    """check_text off the event loop, within the budget."""
    try:
        return await _in_thread(check_text, text, path, templates_dir)
    except TimeoutError:
        return Checked(None, [RuleError(path, 0, 0, _too_slow("checking the rule"))])


async def dry_run_in_thread(fn: Callable[..., DryRun], *args: Any) -> DryRun:
    """A dry run (`fn(*args)`) off the event loop, within the budget."""
    try:
        return await _in_thread(fn, *args)
    except TimeoutError:
        return DryRun(False, errors=[_too_slow("the dry run")])


def _now_iso() -> str:
    from wendu.store.models import utcnow

    return utcnow().isoformat()
