"""Checking rule text and dry-running a rule against a sample event (or, for a schedule
rule, on one employee as if the schedule ran now), starting nothing.

The dry run builds the context exactly as ingestion does (the event normalised against the
catalog, the employee record, the stored profile with this event folded in), asks a
one-rule index for a match, and renders each `notify` step's template for the people it
would reach. Nothing is stored and no workflow starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from wendu.actions import Walk, planned_actions, template_of
from wendu.activities.people import resolve_roles
from wendu.activities.render import TemplateProblem, get_renderer
from wendu.api.web_dryrun_explain import explain_conditions, fired_before
from wendu.decide import decide
from wendu.decisions import in_holdout
from wendu.event_models import EventValidationError, parse_event_list
from wendu.ingest import _normalize, employee_dict  # the same normalisation as ingestion
from wendu.rules.compiler import check
from wendu.rules.errors import RuleError, RuleErrors
from wendu.rules.expressions import flat_context
from wendu.rules.loader import load
from wendu.rules.matcher import (
    EvaluationError,
    Match,
    RuleIndex,
    matches_for_schedule,
    rule_context,
)
from wendu.rules.plan import EventTrigger, NotifyStep, Plan, ScheduleTrigger
from wendu.rules.templates_catalog import TemplateCatalog
from wendu.store.models import Employee, Profile, utcnow
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


def check_text(text: str, path: str, templates_dir: str, groups: Iterable[str] = ()) -> Checked:
    """Every problem of a rule text, each on its line (0: the whole file), checked as
    `wendu rules validate` checks it: the same compiler, with the rule set's groups."""
    try:
        loaded = load(text, path)
    except RuleErrors as exc:
        return Checked(None, exc.problems)
    if not isinstance(loaded.data, dict):
        return Checked(None, [RuleError(path, 1, 1, "a rule is a YAML mapping (id, trigger, "
                                        "when, dedupe, steps)")])
    result = check(loaded, templates=TemplateCatalog(templates_dir), groups=groups)
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
    # Each `when` condition with its outcome and the values it read (why it would not fire).
    conditions: list[dict[str, Any]] = field(default_factory=list)
    # The firing this key already started: a real event would do nothing.
    already_fired: dict[str, Any] | None = None
    employee_id: str | None = None


def dry_run(session: Session, plan: Plan, raw_event: Any, templates_dir: str) -> DryRun:
    """Would `plan` fire for this event, under which key, and what would it send?"""
    if not isinstance(plan.trigger, EventTrigger):
        return DryRun(False, errors=["rule: a schedule rule is previewed on an employee, "
                                     "not an event"])
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
        return DryRun(False, errors=[str(e) for e in result.errors], employee_id=ev.employee_id)
    match = result.matches[0] if result.matches else None
    return _outcome(session, plan, ctx, match, ev.employee_id, ev.id, templates_dir)


def dry_run_schedule(session: Session, plan: Plan, employee_id: str,
                     templates_dir: str) -> DryRun:
    """Would the schedule rule, run now, fire for this employee, and what would it send?"""
    if not isinstance(plan.trigger, ScheduleTrigger):
        return DryRun(False, errors=["rule: an event rule is dry-run on an event"])
    person = session.get(Employee, employee_id.strip())
    if person is None:
        return DryRun(False, errors=[f"employee: no employee {employee_id.strip()!r}"])
    emp = employee_dict(person, person.id)
    row = session.get(Profile, person.id)
    now = utcnow()
    zone = plan.trigger.timezone
    local = now.astimezone(ZoneInfo(zone)) if zone else now
    ctx = {"event": None, "schedule": {"fire_time": local.isoformat()}, "employee": emp,
           "profile": derive(dict(row.state) if row else {}, emp, now), "vars": {}}
    try:
        match = matches_for_schedule(plan, ctx)
    except EvaluationError as exc:
        return DryRun(False, errors=[exc.message], employee_id=person.id)
    return _outcome(session, plan, ctx, match, person.id, None, templates_dir)


def _outcome(session: Session, plan: Plan, ctx: dict[str, Any], match: Match | None,
             employee_id: str, event_id: str | None, templates_dir: str) -> DryRun:
    conditions = explain_conditions(plan, ctx)
    if match is None:
        return DryRun(True, fired=False, conditions=conditions, employee_id=employee_id)
    out = DryRun(True, fired=True, dedupe_key=match.dedupe_key, workflow_id=match.workflow_id,
                 matched=[src for src, _ in match.matched], values=dict(match.values),
                 held_out=in_holdout(plan.rule_id, employee_id, plan.holdout),
                 conditions=conditions, employee_id=employee_id,
                 already_fired=fired_before(session, match.workflow_id))
    firing = Firing(rule_id=plan.rule_id, dedupe_key=match.dedupe_key,
                    employee_id=employee_id, event_id=event_id, matched=out.matched,
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
        people = resolve_roles(session, employee_id, [r.role for r in step.to])
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


async def check_in_thread(text: str, path: str, templates_dir: str,
                          groups: Iterable[str] = ()) -> Checked:
    """check_text off the event loop, within the budget."""
    try:
        return await _in_thread(check_text, text, path, templates_dir, tuple(groups))
    except TimeoutError:
        return Checked(None, [RuleError(path, 0, 0, _too_slow("checking the rule"))])


async def dry_run_in_thread(fn: Callable[..., DryRun], *args: Any) -> DryRun:
    """A dry run (`fn(*args)`) off the event loop, within the budget."""
    try:
        return await _in_thread(fn, *args)
    except TimeoutError:
        return DryRun(False, errors=[_too_slow("the dry run")])


def _now_iso() -> str:
    return utcnow().isoformat()
