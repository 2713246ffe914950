"""Rules in the console (HR): the rule set, one rule's YAML with its problems on their lines,
a dry run against a sample event, enable/disable, and uploading a new version.

Reading is for both HR roles; changing a rule is hr_admin's, and every change is audited with
the state before and after. An uploaded version is stored like one loaded from the rule
folder (wendu.rulestore), and when a rule folder is configured it is written there too, so the
next reload of the folder keeps it rather than reverting it.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.api import run_history
from wendu.api.decisions import query_decisions
from wendu.api.deps import SessionDep
from wendu.api.firings import failed_counts, failed_firings
from wendu.api.web_access import not_found, require_hr, require_roles
from wendu.api.web_accounts import SessionUser, audit
from wendu.api.web_auth import ApiPostingUser, ApiUser, CurrentUser, PostingUser, client_ip
from wendu.api.web_dryrun import (
    Checked,
    check_in_thread,
    dry_run,
    dry_run_in_thread,
    dry_run_schedule,
)
from wendu.api.web_dryrun_explain import first_employee, sample_event
from wendu.api.web_rule_checks import (
    editor_problems,
    lf,
    rule_groups,
    with_line_endings_of,
)
from wendu.api.web_rule_starters import STARTERS, starter_text
from wendu.api.web_ui import page
from wendu.rules.plan import Plan, ScheduleTrigger
from wendu.rulestore import sync_rules
from wendu.store.models import Firing, Rule, RuleVersion, utcnow

log = logging.getLogger(__name__)
router = APIRouter(tags=["console"])
RECENT = timedelta(days=7)
DECISIONS_SHOWN = 20  # the rule page's latest; the API pages further


def _rules(session: Session) -> list[dict[str, Any]]:
    since = utcnow() - RECENT
    counts: dict[str, int] = dict(session.execute(select(Firing.rule_id, func.count())
                                  .where(Firing.created_at >= since,
                                         Firing.status != "held_out")  # reached nobody
                                  .group_by(Firing.rule_id)).all())
    last: dict[str, Any] = dict(session.execute(select(Firing.rule_id, func.max(Firing.created_at))
                                .group_by(Firing.rule_id)).all())
    failed = failed_counts(session)
    acted = run_history.acted_counts(session, since)  # firings whose run reached someone
    return [{"id": r.id, "enabled": r.enabled, "version": r.version, "trigger": r.trigger_kind,
             "event_type": r.event_type, "firings_7d": counts.get(r.id, 0),
             "acted_7d": acted.get(r.id, 0),
             "failed_7d": failed.get(r.id, 0),
             "last_fired": last.get(r.id), "source_path": r.source_path}
            for r in session.scalars(select(Rule).order_by(Rule.id))]


def _source(session: Session, rule: Rule) -> str:
    version = session.get(RuleVersion, (rule.id, rule.current_digest))
    return version.source_text if version else ""


def _templates_dir(request: Request) -> str:
    return str(request.app.state.settings.templates_path)


@router.get("/console/rules", response_class=HTMLResponse)
def rules_page(request: Request, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    require_hr(user)
    return page(request, "rules.html", user, rules=_rules(session))


def _rule_page(request: Request, user: SessionUser, session: Session, rule_id: str | None, *,
               text: str | None = None, checked: Checked | None = None,
               event_text: str | None = None, employee: str | None = None,
               result: Any = None, saved: bool = False, status_code: int = 200,
               state_problem: str | None = None, **extra: Any) -> HTMLResponse:
    """One rule's page (`rule_id` None: a new rule, not stored yet)."""
    rule = session.get(Rule, rule_id) if rule_id else None
    if rule is None and text is None:
        raise not_found(f"rule {rule_id!r}")
    text = text if text is not None else _source(session, rule)  # type: ignore[arg-type]
    by_line = checked.by_line() if checked else {}
    plan = checked.plan if checked else None
    schedule = (isinstance(plan.trigger, ScheduleTrigger) if plan is not None
                else bool(rule and rule.trigger_kind == "schedule"))
    if not schedule and not event_text:
        kind = (plan.trigger.event if plan is not None  # type: ignore[union-attr]
                else rule.event_type if rule else None)
        event_text = json.dumps(sample_event(session, kind), ensure_ascii=False, indent=2)
    return page(request, "rule.html", user, status_code=status_code, rule=rule,
                rule_id=rule_id, text=text, checked=checked, problems=checked.problems
                if checked else [], general=by_line.get(0, []), result=result, saved=saved,
                schedule=schedule, event_text=event_text or "",
                employee=employee or first_employee(session),
                action=f"/console/rules/{rule_id}/upload" if rule_id else "/console/rules/new",
                can_edit=user.role == "hr_admin", state_problem=state_problem,
                failed=failed_firings(session, rule_id) if rule else [],
                decisions=query_decisions(session, rule=rule_id, limit=DECISIONS_SHOWN)
                if rule else [], **extra)


@router.get("/console/rules/new", response_class=HTMLResponse)
def new_rule_page(request: Request, user: CurrentUser, session: SessionDep,
                  start: str = "") -> HTMLResponse:
    """A new rule, begun from one of the shipped rules (or a blank one)."""
    require_hr(user)
    return _rule_page(request, user, session, None, text=starter_text(start),
                      starters=STARTERS, start=start)


@router.post("/console/rules/new", response_class=HTMLResponse)
async def new_rule(request: Request, user: PostingUser, session: SessionDep,
                   source: Annotated[str, Form()], intent: Annotated[str, Form()] = "check",
                   event: Annotated[str | None, Form()] = None,
                   employee: Annotated[str | None, Form()] = None) -> Response:
    return await edit(request, user, session, None, source, intent, event, employee)


@router.get("/console/rules/{rule_id}", response_class=HTMLResponse)
def rule_page(request: Request, rule_id: str, user: CurrentUser, session: SessionDep,
              saved: bool = False) -> HTMLResponse:
    require_hr(user)
    return _rule_page(request, user, session, rule_id, saved=saved)


@router.post("/console/rules/{rule_id}/upload", response_class=HTMLResponse)
async def upload(request: Request, rule_id: str, user: PostingUser, session: SessionDep,
                 source: Annotated[str, Form()], intent: Annotated[str, Form()] = "check",
                 event: Annotated[str | None, Form()] = None,
                 employee: Annotated[str | None, Form()] = None) -> Response:
    """Check, dry-run or save the text in the editor; problems come back on their lines."""
    if session.get(Rule, rule_id) is None:
        raise not_found(f"rule {rule_id!r}")
    return await edit(request, user, session, rule_id, source, intent, event, employee)


async def edit(request: Request, user: SessionUser, session: Session, rule_id: str | None,
               source: str, intent: str, event: str | None, employee: str | None) -> Response:
    """The editor's three buttons, for a stored rule (`rule_id`) or a new one (None)."""
    require_hr(user)
    if intent == "save":
        require_roles(user, "hr_admin", what="changing rules")
    source = lf(source)  # a browser sends CRLF; the file keeps its own line endings on save
    checked = await check_in_thread(source, f"{rule_id or 'new-rule'}.yaml",
                                    _templates_dir(request), rule_groups(request))
    # Warnings while editing; what would save the wrong rule, or a change under the same
    # version number, stops a save.
    checked.problems.extend(editor_problems(session, rule_id, checked.plan, source,
                                            "error" if intent == "save" else "warning"))
    blocking = [p for p in checked.problems if p.is_error]
    page_of = dict(text=source, checked=checked, event_text=event, employee=employee)
    if checked.plan is None or blocking or intent == "check":
        code = 422 if checked.plan is None or blocking else 200
        return _rule_page(request, user, session, rule_id, status_code=code, **page_of)
    if intent == "dry_run":
        if isinstance(checked.plan.trigger, ScheduleTrigger):
            result = await dry_run_in_thread(dry_run_schedule, session, checked.plan,
                                             employee or "", _templates_dir(request))
        else:
            result = await dry_run_in_thread(_dry_run, session, checked.plan, event or "",
                                             _templates_dir(request))
        return _rule_page(request, user, session, rule_id, result=result, **page_of)
    plan = checked.plan
    await store_version(request, session, user.username, plan, source)
    return RedirectResponse(f"/console/rules/{plan.rule_id}?saved=1", status_code=303)


@router.post("/console/rules/{rule_id}/state", response_class=HTMLResponse)
async def set_state(request: Request, rule_id: str, user: PostingUser, session: SessionDep,
                    enabled: Annotated[bool, Form()],
                    reason: Annotated[str, Form()] = "") -> Response:
    if not enabled and not reason.strip():
        require_roles(user, "hr_admin", what="changing rules")
        return _rule_page(request, user, session, rule_id, status_code=422,
                          state_problem="disable_needs_reason")
    await _set_enabled(request, session, user, rule_id, enabled, reason.strip() or None)
    return RedirectResponse(f"/console/rules/{rule_id}", status_code=303)


def _dry_run(session: Session, plan: Plan, event_text: str, templates_dir: str) -> Any:
    from wendu.api.web_dryrun import DryRun

    try:
        raw = json.loads(event_text)
    except json.JSONDecodeError as exc:
        return DryRun(False, errors=[f"event: not JSON (line {exc.lineno}, column {exc.colno}): "
                                     f"{exc.msg}"])
    return dry_run(session, plan, raw, templates_dir)


async def store_version(request: Request, session: Session, actor: str, plan: Plan,
                        source: str, action: str = "rule.upload", note: str | None = None) -> None:
    """Make `plan` the rule's current version (a new upload, or an old one rolled back to):
    stored, written to the rule folder when there is one, audited, and live at once."""
    rule = session.get(Rule, plan.rule_id)
    before = ({"version": rule.version, "digest": rule.current_digest, "enabled": rule.enabled,
               "source": _source(session, rule)} if rule else None)
    path = rule.source_path if rule else ""
    path = _write_to_folder(request, plan.rule_id, path, source) or path or "console"
    keep = set(session.scalars(select(Rule.source_path)))
    sync_rules(session, [plan], {plan.rule_id: source}, {plan.rule_id: path}, keep_paths=keep,
               actor=actor)
    audit(session, actor, action, "rule", plan.rule_id, before=before,
          after={"version": plan.version, "digest": plan.digest, "enabled": plan.enabled,
                 "source": source}, ip=client_ip(request), note=note)
    session.commit()
    await _refresh(request)


def _write_to_folder(request: Request, rule_id: str, path: str, source: str) -> str | None:
    folder = request.app.state.settings.rules_dir
    if folder is None:
        return None
    folder = Path(folder).resolve()
    target = Path(path).resolve() if path else folder / f"{rule_id}.yaml"
    if not target.is_relative_to(folder):
        target = folder / f"{rule_id}.yaml"
    # The file keeps the line endings it has (the editor works in LF).
    old = target.read_bytes() if target.is_file() else b""
    target.write_bytes(with_line_endings_of(old, source).encode("utf-8"))
    return str(target)


async def _set_enabled(request: Request, session: Session, user: SessionUser, rule_id: str,
                       enabled: bool, reason: str | None = None) -> dict[str, Any]:
    require_hr(user)
    require_roles(user, "hr_admin", what="changing rules")
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise not_found(f"rule {rule_id!r}")
    before = {"enabled": rule.enabled, "version": rule.version}
    rule.enabled = enabled
    audit(session, user.username, "rule.enable" if enabled else "rule.disable", "rule", rule_id,
          before=before, after={"enabled": enabled, "version": rule.version},
          ip=client_ip(request), note=reason)
    session.commit()
    await _refresh(request)
    return {"id": rule_id, "enabled": enabled}


async def _refresh(request: Request) -> None:
    """Swap the live rule index (and schedules) for what the store now holds."""
    from wendu.api.rules import reload_rules

    app = request.app
    settings = app.state.settings.model_copy(update={"rules_dir": None})
    async with app.state.reload_lock:
        _, loaded = await reload_rules(settings, app.state.session_factory, app.state.temporal)
        app.state.rules = loaded


# --- the console's JSON routes -------------------------------------------------------------


class CheckBody(BaseModel):
    source: str
    event: dict[str, Any] | None = None
    employee: str | None = None  # a schedule rule's dry run: as if it ran now for them
    # The editor this text is in (a stored rule's id, or `new`): its warnings come too.
    rule: str | None = None
    new: bool = False


@router.get("/console/api/rules")
def list_rules(user: ApiUser, session: SessionDep) -> list[dict[str, Any]]:
    require_hr(user)
    return _rules(session)


@router.post("/console/api/rules/check")
async def check_rule(body: CheckBody, request: Request, user: ApiPostingUser,
                     session: SessionDep) -> dict[str, Any]:
    """Problems of a rule text by line; with `event` (or, for a schedule rule, `employee`),
    also the dry run."""
    require_hr(user)
    source = lf(body.source)
    checked = await check_in_thread(source, "rule.yaml", _templates_dir(request),
                                    rule_groups(request))
    if body.rule or body.new:
        checked.problems.extend(editor_problems(session, body.rule, checked.plan, source))
    out: dict[str, Any] = {"ok": checked.plan is not None, "problems": [
        {"line": p.line, "col": p.col, "severity": p.severity, "message": p.message}
        for p in checked.problems]}
    if checked.plan is not None and body.employee is not None \
            and isinstance(checked.plan.trigger, ScheduleTrigger):
        result = await dry_run_in_thread(dry_run_schedule, session, checked.plan,
                                         body.employee, _templates_dir(request))
        out["dry_run"] = result.__dict__
    elif checked.plan is not None and body.event is not None:
        result = await dry_run_in_thread(dry_run, session, checked.plan, body.event,
                                         _templates_dir(request))
        out["dry_run"] = result.__dict__
    return out


@router.post("/console/api/rules/{rule_id}/state")
async def rule_state(rule_id: str, request: Request, user: ApiPostingUser, session: SessionDep,
                     enabled: bool, reason: str | None = None) -> dict[str, Any]:
    return await _set_enabled(request, session, user, rule_id, enabled, reason)
