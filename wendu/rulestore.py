"""Rules in the database: every version kept, the current one enabled; schedules in Temporal.

A rule folder is the source of truth an HR team edits; the database keeps every version a
workflow may still be running (`rule_versions`), so a rule removed from the folder is disabled,
never deleted, and its history stays explainable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

from wendu.rules.plan import Plan, ScheduleTrigger
from wendu.store.models import Rule, RuleVersion
from wendu.workflows.io import ScanInput

log = logging.getLogger(__name__)

SCHEDULE_PREFIX = "rule-schedule/"
RPC_TIMEOUT = timedelta(seconds=10)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.__dict__.items()}


def sync_rules(
    session: Session,
    plans: Iterable[Plan],
    sources: Mapping[str, str],
    source_paths: Mapping[str, str],
    *,
    keep_paths: Iterable[str] = (),
    actor: str = "folder",
) -> SyncReport:
    """Upsert rules and their versions from a freshly loaded folder; the caller commits.

    A new digest becomes a new version row (a digest seen before is reused, so reverting a
    rule does not add a row); version numbers are the authors'. Stored rules not in `plans` are
    disabled, except those whose file is in `keep_paths` (a file that failed to load keeps
    its last good version running rather than silently switching the rule off). `actor` is
    who stored the new versions (a console user; "folder" for a reload of the files).
    """
    report = SyncReport()
    plans = list(plans)
    keep = {str(p) for p in keep_paths}
    rules = {r.id: r for r in session.scalars(select(Rule))}
    seen: set[str] = set()
    for plan in plans:
        seen.add(plan.rule_id)
        rule = rules.get(plan.rule_id)
        known = session.get(RuleVersion, (plan.rule_id, plan.digest))
        version = plan.version  # the author's `version:`; the digest tells versions apart
        if known is None and rule is not None and rule.version == version:
            log.warning(
                "rule %s changed without a new version number (still %s); "
                "bump `version:` so people can tell the two apart", plan.rule_id, version
            )
        trigger = plan.trigger
        values = {
            "enabled": plan.enabled,
            "current_digest": plan.digest,
            "version": version,
            "trigger_kind": trigger.kind,
            "event_type": getattr(trigger, "event", None),
            "source_path": str(source_paths.get(plan.rule_id, "")),
        }
        if rule is None:
            rule = Rule(id=plan.rule_id, **values)
            session.add(rule)
            session.flush()  # the version row refers to it
            report.added.append(plan.rule_id)
        else:
            if rule.current_digest == plan.digest and rule.source_path == values["source_path"]:
                # The same file, unchanged: a rule switched on or off in the console stays so.
                # Editing the file (its `enabled:` included) makes a new digest, which applies.
                values["enabled"] = rule.enabled
            changed = any(getattr(rule, k) != v for k, v in values.items())
            for k, v in values.items():
                setattr(rule, k, v)
            (report.updated if changed else report.unchanged).append(plan.rule_id)
        if known is None:
            session.add(
                RuleVersion(
                    rule_id=plan.rule_id,
                    digest=plan.digest,
                    version=version,
                    source_text=sources.get(plan.rule_id, plan.source),
                    plan=plan.model_dump(mode="json", by_alias=True),
                    created_by=actor,
                )
            )
    for rule_id, rule in rules.items():
        if rule_id not in seen and rule.enabled and rule.source_path not in keep:
            rule.enabled = False
            # Its file is gone: should it come back, its own `enabled:` applies again.
            rule.source_path = ""
            report.disabled.append(rule_id)
    session.flush()
    return report


def load_enabled_plans(session: Session) -> list[Plan]:
    """The current version of every enabled rule, as compiled plans."""
    q = (
        select(RuleVersion.plan)
        .join(Rule, (Rule.id == RuleVersion.rule_id) & (Rule.current_digest == RuleVersion.digest))
        .where(Rule.enabled.is_(True))
        .order_by(Rule.id)
    )
    return [Plan.model_validate(p) for p in session.scalars(q)]


def load_plan(session: Session, rule_id: str, digest: str) -> Plan | None:
    version = session.get(RuleVersion, (rule_id, digest))
    return Plan.model_validate(version.plan) if version else None


def schedule_id(rule_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{rule_id}"


def _schedule_for(plan: Plan, task_queue: str) -> Schedule:
    trigger = plan.trigger
    assert isinstance(trigger, ScheduleTrigger)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "ScanWorkflow",
            ScanInput(rule_id=plan.rule_id, digest=plan.digest),
            id=f"scan/{plan.rule_id}",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[trigger.cron], time_zone_name=trigger.timezone),
        # A scan still running when the next one is due is not doubled up.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def _replace_with(schedule: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    def update(_input: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    return update


async def sync_schedules(
    client: Client, plans: Iterable[Plan], task_queue: str, *, removed: Iterable[str] = ()
) -> SyncReport:
    """Make Temporal's rule schedules match the enabled schedule rules in `plans`.

    Schedules of other rules are deleted: those listed by Temporal and, since listing is
    eventually consistent, those of the rule ids in `removed` (e.g. just disabled).
    """
    report = SyncReport()
    wanted = {
        schedule_id(p.rule_id): p
        for p in plans
        if p.enabled and isinstance(p.trigger, ScheduleTrigger)
    }
    existing: set[str] = {schedule_id(r) for r in removed}
    async for listed in await client.list_schedules(rpc_timeout=RPC_TIMEOUT):
        if listed.id.startswith(SCHEDULE_PREFIX):
            existing.add(listed.id)
    for sid, plan in wanted.items():
        schedule = _schedule_for(plan, task_queue)
        try:
            await client.create_schedule(sid, schedule, rpc_timeout=RPC_TIMEOUT)
            report.added.append(plan.rule_id)
        except ScheduleAlreadyRunningError:
            # Listing is eventually consistent, so "create, else update" is the reliable way.
            await client.get_schedule_handle(sid).update(
                _replace_with(schedule), rpc_timeout=RPC_TIMEOUT
            )
            report.updated.append(plan.rule_id)
    for sid in sorted(existing - set(wanted)):
        try:
            await client.get_schedule_handle(sid).delete(rpc_timeout=RPC_TIMEOUT)
            report.disabled.append(sid.removeprefix(SCHEDULE_PREFIX))
        except RPCError as exc:  # already gone: the goal is reached either way
            log.debug("schedule %s not deleted: %s", sid, exc)
    return report
