"""The decision log: every firing, and every match that did not fire, with why.

HR asks "why did Li get this message?" and, as often, "why did Wang not?". Each match of a rule
becomes one row: its result (`fired`, or the reason it was held back: `deduped` when the rule
had fired for that key already, `held_out` when the person is in the rule's control group,
`cooldown` when it fired for them recently; a new reason is one more string in `RESULTS`, its
matches passed to `create_firings` as `held_back`), the rule version, the inputs its
conditions read and the fast scores that decided it. As OPA's decision logs mask fields, free
text people wrote (feedback, chat, search) is left out: the log says a rule read `event.text`,
never what it said, and a score keeps its label and value, never the phrases it quotes.

Rows are built in memory while ingest (`create_firings`) or a schedule scan
(`fire_for_schedule`) decides and written with one bulk insert per batch, in the batch's
transaction: the log never costs a round trip per event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from numbers import Real
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wendu.firing import FiredRule, firing_row, insert_firings, workflow_id_for
from wendu.rules.matcher import EvaluationError, matches_for_schedule
from wendu.rules.plan import Plan
from wendu.sqlbatch import chunks, insert_many
from wendu.store.models import Decision, Firing, utcnow

RESULTS = ("fired", "held_out", "deduped", "cooldown")
# Every free-text field of the event catalog is `text` (feedback, chat, search queries).
SENSITIVE_INPUTS = frozenset({"event.text"})
MASK = "(left out: free text)"
# The parts of a fast score kept: what it concluded, never the words it read.
SCORE_KEYS = ("label", "value", "model_version")


def in_holdout(rule_id: str, employee_id: str | None, share: float) -> bool:
    """Whether the person is in the rule's control group: a stable draw per rule and person
    (sha256 of both), so the same share of people, never the same people for every rule."""
    if share <= 0 or not employee_id:
        return False
    digest = hashlib.sha256(f"{rule_id}\x00{employee_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def inputs_of(values: dict[str, Any]) -> dict[str, Any]:
    """A match's inputs with free text left out (and scores, kept apart in `scores`)."""
    return {name: (MASK if name in SENSITIVE_INPUTS and value is not None else value)
            for name, value in values.items() if not name.startswith("score.")}


def scores_of(plan: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    scores = ctx.get("score") or {}
    return {name: {k: _plain(scores[name].get(k)) for k in SCORE_KEYS}
            for name in plan.fast_scores if isinstance(scores.get(name), dict)}


def _plain(value: Any) -> Any:
    """A model's numpy number as a float, so the row's JSON never depends on the scorer."""
    if isinstance(value, Real) and not isinstance(value, bool | int):
        return float(value)
    return value


def decision_row(match: Any, ctx: dict[str, Any], result: str, employee_id: str | None,
                 event_id: str | None, occurred_at: datetime, workflow_id: str,
                 now: datetime | None = None) -> dict[str, Any]:
    plan = match.plan
    return {"rule_id": plan.rule_id, "rule_version": plan.version, "rule_digest": plan.digest,
            "employee_id": employee_id, "event_id": event_id, "dedupe_key": match.dedupe_key,
            "workflow_id": workflow_id, "result": result, "inputs": inputs_of(match.values),
            "scores": scores_of(plan, ctx), "occurred_at": occurred_at,
            "recorded_at": now or utcnow()}


def prune_decisions(session: Session, before: datetime) -> int:
    """Delete the rows decided before `before` (`wendu db prune-decisions`); how many."""
    result = session.execute(delete(Decision).where(Decision.occurred_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def insert_decisions(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """One driver-level executemany, in the caller's transaction."""
    insert_many(session, _DECISIONS, list(rows))


_DECISIONS = Decision.__table__


# --- from a batch's matches to firings and decisions -----------------------------------------


def create_firings(session: Session, evs: list[Any], outcomes: list[Any],
                   candidates: list[tuple[int, Any, dict[str, Any]]],
                   held_back: Iterable[tuple[int, Any, dict[str, Any], str]] = ()) -> None:
    """Insert the firings a batch's matches make and log every match's decision.

    `candidates` are (position in the batch, match, context); `outcomes[i].fired` and
    `.already_fired` are filled for the producer's answer. A person in the rule's holdout gets
    a `held_out` firing (so the key is settled, and the holdout counted) that never starts.
    `held_back` are matches kept from firing before this (a cooldown), each with its reason:
    logged in the same insert.
    """
    now = utcnow()
    held_rows = [decision_row(m, ctx, reason, evs[i].employee_id, evs[i].id, evs[i].occurred_at,
                              workflow_id_for(m.plan.rule_id, m.dedupe_key), now)
                 for i, m, ctx, reason in held_back]
    if not candidates:
        insert_decisions(session, held_rows)
        return
    # Most matches of a busy batch fired in an earlier one (the same rule and week): building a
    # firing row dumps the whole plan and context, so only rows that may be new are built.
    wids = sorted({workflow_id_for(m.plan.rule_id, m.dedupe_key) for _, m, _ in candidates})
    stored: set[str] = set()
    for chunk in chunks(wids):
        stored.update(
            session.scalars(select(Firing.workflow_id).where(Firing.workflow_id.in_(chunk))))
    rows: dict[str, dict[str, Any]] = {}
    firsts: dict[str, bool] = {}  # workflow id -> held out, for the first match of each key
    decided: list[tuple[int, Any, dict[str, Any], str, str | None]] = []
    for i, match, ctx in candidates:
        ev = evs[i]
        wid = workflow_id_for(match.plan.rule_id, match.dedupe_key)
        fired = FiredRule(match.plan.rule_id, wid, match.dedupe_key)
        if wid in firsts:  # an earlier event of this batch fired it
            if not firsts[wid]:
                outcomes[i].already_fired.append(fired)
            decided.append((i, match, ctx, wid, "deduped"))
            continue
        held = firsts[wid] = in_holdout(match.plan.rule_id, ev.employee_id, match.plan.holdout)
        if wid not in stored:
            rows[wid] = firing_row(match.plan, match, ctx, ev.employee_id, ev.id)
            if held:
                rows[wid]["status"] = "held_out"
        if not held:
            outcomes[i].fired.append(fired)  # moved to already_fired below unless inserted now
        decided.append((i, match, ctx, wid, None))
    ids = insert_firings(session, rows)
    for out in outcomes:
        kept = []
        for f in out.fired:
            if f.workflow_id in ids:
                f.firing_id = ids[f.workflow_id]
                kept.append(f)
            else:
                out.already_fired.append(f)
        out.fired = kept
    insert_decisions(session, held_rows + [
        decision_row(match, ctx, result or (("held_out" if firsts[wid] else "fired")
                                             if wid in ids else "deduped"),
                     evs[i].employee_id, evs[i].id, evs[i].occurred_at, wid, now)
        for i, match, ctx, wid, result in decided])


def fire_for_schedule(
    session: Session,
    plan: Plan,
    subjects: Iterable[tuple[dict[str, Any], dict[str, Any]]],
    fire_time: datetime,
) -> tuple[list[FiredRule], list[FiredRule], list[str]]:
    """Evaluate a schedule rule for each (employee, profile facts) and insert its firings.

    Returns (fired, already_fired, errors); the caller commits, then starts the fired ones.
    Each match is logged; people in the rule's holdout are held out, as at ingest.
    """
    # In the schedule's own zone: "Monday 07:00 Shanghai" is still Sunday in UTC, and a dedupe
    # key such as `schedule.fire_time | iso_week` must see the Monday.
    zone = getattr(plan.trigger, "timezone", None)
    local = fire_time.astimezone(ZoneInfo(zone)) if zone else fire_time
    schedule = {"fire_time": local.isoformat()}
    rows: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}
    errors: list[str] = []
    already: list[FiredRule] = []
    decided: list[tuple[Any, dict[str, Any], str | None, str, bool]] = []
    for employee, facts in subjects:
        ctx = {"event": None, "schedule": schedule, "employee": employee, "profile": facts,
               "vars": {}}
        try:
            match = matches_for_schedule(plan, ctx)
        except EvaluationError as exc:
            errors.append(f"{employee.get('id')}: {exc.message}")
            continue
        if match is None:
            continue
        wid = workflow_id_for(plan.rule_id, match.dedupe_key)
        decided.append((match, ctx, employee.get("id"), wid, wid not in rows))
        if wid in rows:  # two employees rendered the same key: the rule fires once for it
            already.append(FiredRule(plan.rule_id, wid, match.dedupe_key))
        else:
            rows[wid] = firing_row(plan, match, ctx, employee.get("id"), None)
            if in_holdout(plan.rule_id, employee.get("id"), plan.holdout):
                rows[wid]["status"] = "held_out"  # settled and counted, never started
            keys[wid] = match.dedupe_key
    ids = insert_firings(session, rows) if rows else {}
    held = {wid for wid, row in rows.items() if row["status"] == "held_out"}
    insert_decisions(session, [decision_row(
        match, ctx, ("held_out" if wid in held else "fired") if first and wid in ids
        else "deduped", emp, None, fire_time, wid) for match, ctx, emp, wid, first in decided])
    fired = [FiredRule(plan.rule_id, wid, keys[wid], ids[wid]) for wid in rows
             if wid in ids and wid not in held]
    already += [FiredRule(plan.rule_id, wid, keys[wid]) for wid in rows if wid not in ids]
    return fired, already, errors
