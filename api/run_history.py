"""What each run of a rule came to: sent, failed, nothing done, deduped, held out, cooldown,
and the events that arrived too old to be evaluated (stale).

A firing row says a workflow was asked for; it does not say the workflow reached anyone. A
rule whose `if` went the other way, or whose only message failed, "fired" all the same, so
counting firings counts runs that did nothing as if they acted. The outcome here is read from
what the run left behind: its messages (notifications of its workflow) and the tasks it opened.
Matches held back at ingest (deduped, held out, cooldown) never became firings; the decision
log has them. Stale events were never matched, so they are counted per rule, not listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.rules.freshness import parse_max_age
from wendu.rules.plan import Plan
from wendu.sqlbatch import chunks
from wendu.store.models import (
    Decision,
    Event,
    Firing,
    Notification,
    Rule,
    RuleVersion,
    Task,
)

Outcome = Literal["sent", "failed", "nothing", "pending", "deduped", "held_out", "cooldown"]
OUTCOMES: tuple[Outcome, ...] = ("sent", "failed", "nothing", "pending", "deduped", "held_out",
                                 "cooldown")
# What a firing row can come to (the rest are matches held back, in the decision log).
FIRING_OUTCOMES: tuple[Outcome, ...] = ("sent", "failed", "nothing", "pending", "held_out")
# A message counts as reaching its recipient once delivered, or folded into their digest.
REACHED = ("delivered", "digest")
STALE_SCAN_LIMIT = 20000  # trigger events read to count stale ones, newest first


def effects(session: Session, workflow_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """workflow id -> {"messages": reached, "failed": failed messages, "tasks": opened}."""
    out: dict[str, dict[str, int]] = {}
    for chunk in chunks(list(set(workflow_ids))):
        for wid, status, n in session.execute(
                select(Notification.workflow_id, Notification.status, func.count())
                .where(Notification.workflow_id.in_(chunk))
                .group_by(Notification.workflow_id, Notification.status)):
            row = out.setdefault(wid, {"messages": 0, "failed": 0, "tasks": 0})
            if status in REACHED:
                row["messages"] += n
            elif status == "failed":
                row["failed"] += n
        for wid, n in session.execute(
                select(Task.parent_workflow_id, func.count())
                .where(Task.parent_workflow_id.in_(chunk)).group_by(Task.parent_workflow_id)):
            out.setdefault(wid, {"messages": 0, "failed": 0, "tasks": 0})["tasks"] += n
    return out


def outcome_of(firing: Firing, done: dict[str, int] | None) -> Outcome:
    if firing.status == "failed":
        return "failed"
    if firing.status == "held_out":
        return "held_out"
    if firing.status == "pending":
        return "pending"
    done = done or {}
    if done.get("messages") or done.get("tasks"):
        return "sent"
    return "failed" if done.get("failed") else "nothing"


def firing_outcomes(session: Session, firings: list[Firing]) -> dict[int, dict[str, Any]]:
    """firing id -> {"outcome", "messages", "tasks"} for each of `firings`."""
    done = effects(session, (f.workflow_id for f in firings))
    empty = {"messages": 0, "failed": 0, "tasks": 0}
    return {f.id: {**done.get(f.workflow_id, empty),
                   "outcome": outcome_of(f, done.get(f.workflow_id))} for f in firings}


def acted_counts(session: Session, since: datetime,
                 until: datetime | None = None) -> dict[str, int]:
    """rule id -> firings created in the window whose run reached someone (outcome sent)."""
    q = select(Firing).where(Firing.created_at >= since, Firing.status == "started")
    if until is not None:
        q = q.where(Firing.created_at < until)
    firings = list(session.scalars(q))
    outcomes = firing_outcomes(session, firings)
    counts: Counter[str] = Counter(f.rule_id for f in firings
                                   if outcomes[f.id]["outcome"] == "sent")
    return dict(counts)


def stale_count(session: Session, rule: Rule, since: datetime, default_max_age: str) -> int:
    """Events of the rule's trigger received since `since` that were too old to fire it."""
    if rule.trigger_kind != "event" or not rule.event_type:
        return 0
    version = session.get(RuleVersion, (rule.id, rule.current_digest))
    window: int | None
    own = Plan.model_validate(version.plan).max_age_seconds if version else None
    if own is None:
        try:
            window = parse_max_age(default_max_age)
        except ValueError:
            window = None
    else:
        window = own or None
    if window is None:
        return 0
    q = (select(Event.occurred_at, Event.received_at)
         .where(Event.type == rule.event_type, Event.received_at >= since)
         .order_by(Event.received_at.desc()).limit(STALE_SCAN_LIMIT))
    return sum(1 for occurred, received in session.execute(q)
               if (received - occurred).total_seconds() > window)


def run_history(session: Session, rule: Rule, since: datetime, default_max_age: str,
                limit: int = 50) -> dict[str, Any]:
    """The rule's runs since `since`, newest first (firings with their outcome, and matches
    held back), the count of each outcome, and how many trigger events were stale."""
    firings = list(session.scalars(select(Firing).where(
        Firing.rule_id == rule.id, Firing.created_at >= since).order_by(Firing.id.desc())))
    outcomes = firing_outcomes(session, firings)
    # A held-out match is a firing row of its own (status held_out); repeats are deduped.
    held = list(session.scalars(select(Decision).where(
        Decision.rule_id == rule.id, Decision.occurred_at >= since,
        Decision.result.in_(("deduped", "cooldown")))
        .order_by(Decision.occurred_at.desc())))
    runs: list[dict[str, Any]] = [
        {"at": f.created_at, "employee_id": f.employee_id, "dedupe_key": f.dedupe_key,
         "event_id": f.event_id, "firing_id": f.id, "error": f.error, **outcomes[f.id]}
        for f in firings]
    runs += [{"at": d.occurred_at, "employee_id": d.employee_id, "dedupe_key": d.dedupe_key,
              "event_id": d.event_id, "firing_id": None, "error": None, "messages": 0, "failed": 0,
              "tasks": 0, "outcome": d.result} for d in held]
    counts = Counter(r["outcome"] for r in runs)
    runs.sort(key=lambda r: r["at"], reverse=True)
    return {"runs": runs[:limit], "total": len(runs),
            "counts": {o: counts.get(o, 0) for o in OUTCOMES},
            "stale": stale_count(session, rule, since, default_max_age)}

