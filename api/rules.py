"""Rules: what is loaded and how often it fired; reload the rule folder without a restart."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from wendu.api.deps import LoadedRules, SessionDep, SettingsDep, TemporalDep, require_scope
from wendu.rules.plan import ScheduleTrigger
from wendu.rulestore import load_enabled_plans, schedule_id, sync_rules, sync_schedules
from wendu.settings import Settings
from wendu.store.models import Firing, Rule, RuleVersion, utcnow

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/rules", tags=["rules"], dependencies=[Depends(require_scope("rules:admin"))]
)
RECENT = timedelta(days=7)
RUN_TIMEOUT = timedelta(seconds=10)


class RuleOut(BaseModel):
    id: str
    version: int
    digest: str
    enabled: bool
    trigger: dict[str, Any]
    source_path: str
    updated_at: datetime
    firings_7d: int


@router.get("", response_model=list[RuleOut])
def list_rules(session: SessionDep) -> list[RuleOut]:
    """Every stored rule (disabled ones too) with its current version and how often it fired
    in the last 7 days (`firings_7d`); the firings themselves are GET /api/v1/firings."""
    since = utcnow() - RECENT
    counts = dict(
        session.execute(
            select(Firing.rule_id, func.count())
            .where(Firing.created_at >= since)
            .group_by(Firing.rule_id)
        ).all()
    )
    q = select(Rule, RuleVersion.plan).join(
        RuleVersion, (RuleVersion.rule_id == Rule.id) & (RuleVersion.digest == Rule.current_digest)
    )
    out = []
    for rule, plan in session.execute(q.order_by(Rule.id)):
        out.append(
            RuleOut(
                id=rule.id, version=rule.version, digest=rule.current_digest, enabled=rule.enabled,
                trigger=dict(plan.get("trigger") or {"kind": rule.trigger_kind}),
                source_path=rule.source_path, updated_at=rule.updated_at,
                firings_7d=counts.get(rule.id, 0),
            )
        )
    return out


@dataclass
class ReloadResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    rules: dict[str, list[str]] = field(default_factory=dict)
    schedules: dict[str, list[str]] = field(default_factory=dict)


async def reload_rules(
    settings: Settings, factory: sessionmaker[Session], client: Client | None
) -> tuple[ReloadResult, LoadedRules]:
    """Load the rule folder into the store (if configured), then build the index and make the
    schedules match. A file with errors keeps its rules' last good version."""
    result = ReloadResult(ok=True)
    if settings.rules_dir is not None:
        result.problems, errors, result.rules = await asyncio.to_thread(
            _sync_folder, settings, factory
        )
        result.ok = not errors
    loaded, gone = await asyncio.to_thread(_loaded, factory, settings.max_event_age_seconds)
    if client is not None:
        try:
            report = await sync_schedules(client, loaded.plans, settings.task_queue, removed=gone)
            result.schedules = report.as_dict()
        except RPCError as exc:  # events keep flowing; the next reload or restart retries
            log.error("rule schedules not synchronised with Temporal: %s", exc)
            result.ok = False
            result.problems.append(f"schedules not synchronised with Temporal: {exc}")
    return result, loaded


def _sync_folder(
    settings: Settings, factory: sessionmaker[Session]
) -> tuple[list[str], bool, dict[str, list[str]]]:
    from wendu.rules.ruleset import load_ruleset
    from wendu.rules.templates_catalog import TemplateCatalog

    assert settings.rules_dir is not None
    if not settings.rules_dir.is_dir():
        # A missing folder (a typo in WENDU_RULES_DIR) must not read as "every rule removed".
        message = f"{settings.rules_dir}: error: the rule folder does not exist"
        log.error("%s", message)
        return [message], True, {}
    loaded = load_ruleset([settings.rules_dir], templates=TemplateCatalog(settings.templates_path))
    problems = list(loaded.problems)
    for p in problems:
        log.log(logging.ERROR if getattr(p, "is_error", True) else logging.WARNING, "%s", p)
    broken = {str(p.path) for p in problems if getattr(p, "is_error", True)}
    with factory.begin() as session:
        report = sync_rules(session, loaded.plans, loaded.sources, loaded.files, keep_paths=broken)
    return [str(p) for p in problems], bool(broken), report.as_dict()


def _loaded(
    factory: sessionmaker[Session], max_age: int | None
) -> tuple[LoadedRules, list[str]]:
    """The enabled rules with their index, and the disabled schedule rules (to unschedule);
    `max_age` is the freshness window of rules that set none."""
    from wendu.rules.matcher import RuleIndex

    with factory() as session:
        plans = load_enabled_plans(session)
        off = select(Rule.id).where(Rule.enabled.is_(False), Rule.trigger_kind == "schedule")
        gone = list(session.scalars(off))
    event_plans = [p for p in plans if not isinstance(p.trigger, ScheduleTrigger)]
    return LoadedRules(plans=plans, index=RuleIndex(event_plans, max_age)), gone


@router.post("/reload")
async def reload(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Re-read the rule folder; 422 with file:line:col messages when a rule has errors (the
    other rules are loaded, the broken file's rules keep their previous version)."""
    if settings.rules_dir is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="no rule folder configured (WENDU_RULES_DIR)"
        )
    app = request.app
    async with app.state.reload_lock:
        result, loaded = await reload_rules(settings, app.state.session_factory, app.state.temporal)
        app.state.rules = loaded
    body = {"ok": result.ok, "problems": result.problems, "rules": result.rules,
            "schedules": result.schedules, "enabled": [p.rule_id for p in loaded.plans]}
    if not result.ok:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=body)
    return body



@router.post(
    "/{rule_id}/run",
    responses={
        404: {"description": "No such rule"},
        409: {"description": "Not a scheduled rule, or disabled"},
        503: {"description": "Temporal did not take the request; nothing ran"},
    },
)
async def run_now(rule_id: str, session: SessionDep, temporal: TemporalDep) -> dict[str, Any]:
    """Run a scheduled rule now, as if its schedule had come due (say, after HR changed its
    threshold). Its dedupe key still holds: people it already reached this period are not
    reached again."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no rule {rule_id!r}")
    if rule.trigger_kind != "schedule":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=(
            f"{rule_id} runs on events ({rule.trigger_kind}), not on a schedule; post the "
            "events instead"))
    if not rule.enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"{rule_id} is disabled")
    sid = schedule_id(rule_id)
    # The one Temporal call here, and it cannot be queued like a firing: nothing is decided
    # yet (the scan, in the worker, decides and starts its firings itself), and without the
    # trigger nothing is stored, so the caller must hear at once that it did not happen.
    try:
        await temporal.get_schedule_handle(sid).trigger(rpc_timeout=RUN_TIMEOUT)
    except RPCError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"schedule {sid} not triggered: {exc}") from None
    return {"rule_id": rule_id, "schedule_id": sid, "triggered_at": utcnow().isoformat()}
