"""From committed firing rows to running workflows, and from events to waiting workflows.

A firing row is committed (`pending`) before its workflow is started, so nothing is lost
when the process dies or Temporal is unreachable in between: the API hands new rows to its
`wendu.starter.Starter` after the commit, and the `Reconciler` finds rows left pending (a
crash, an outage) and starts them again, backing off per row. Starting twice is harmless: the
workflow id is derived from the rule and dedupe key, a running one is reused and a finished
one is never started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from wendu.firing_outcomes import FailedWorkflows
from wendu.rules.matcher import rule_context
from wendu.rules.plan import Plan
from wendu.sqlbatch import chunks, dialect_insert, sqlite_insert_new
from wendu.store.models import Firing, utcnow
from wendu.temporal import CONCURRENCY, RPC_TIMEOUT
from wendu.waits import deliver_waits
from wendu.workflows.io import Firing as FiringInfo
from wendu.workflows.io import RuleInput

log = logging.getLogger(__name__)

RULE_WORKFLOW = "RuleWorkflow"
RETRY_SECONDS = 5.0  # the first backoff step; each further failed attempt doubles it
BACKOFF_CAP = timedelta(minutes=5)  # an outage of hours is retried every 5 minutes, not daily
# Errors that another attempt will not cure unless someone changes the configuration (a wrong
# namespace, a missing permission): a few attempts give an operator time, then `failed`.
# Everything else (unavailable, timeouts, overload) is an outage and is retried until it ends.
_PERMANENT = {
    RPCStatusCode.INVALID_ARGUMENT,
    RPCStatusCode.PERMISSION_DENIED,
    RPCStatusCode.UNAUTHENTICATED,
    RPCStatusCode.NOT_FOUND,
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.UNIMPLEMENTED,
}
FAIL_AFTER = 6  # attempts at a permanent error; with the backoff, some 2.5 minutes of them
# Attempts at any error before the row is given up as `failed` (a dead letter HR can list and
# an operator can requeue): with the backoff, about a day of a Temporal that will not take it.
GIVE_UP_AFTER = 300


def _start_error(exc: Exception, attempts: int) -> tuple[str, str]:
    """(status, error) after a failed start: `failed` once retrying cannot help."""
    if isinstance(exc, RPCError):
        error = f"{exc.status.name if exc.status else 'RPC'}: {exc}"
        # A request over the server's message size never fits, however often it is sent.
        too_big = exc.status == RPCStatusCode.RESOURCE_EXHAUSTED and "larger than max" in str(exc)
        permanent = exc.status in _PERMANENT and attempts + 1 >= FAIL_AFTER
        if too_big or permanent or attempts + 1 >= GIVE_UP_AFTER:
            return "failed", error
        return "pending", error
    error = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, UnicodeError | TypeError | ValueError):
        return "failed", error  # the input cannot be encoded: it never will be
    # The server is down, the connection broke, ...
    return ("failed" if attempts + 1 >= GIVE_UP_AFTER else "pending"), error


@dataclass
class FiredRule:
    rule_id: str
    workflow_id: str
    dedupe_key: str
    firing_id: int | None = None

    def public(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "workflow_id": self.workflow_id,
                "dedupe_key": self.dedupe_key}


def workflow_id_for(rule_id: str, dedupe_key: str) -> str:
    return f"rule/{rule_id}/{dedupe_key}"


def firing_row(
    plan: Plan, match: Any, ctx: dict[str, Any], employee_id: str | None, event_id: str | None
) -> dict[str, Any]:
    """A `firings` row whose context is the RuleInput that starts the workflow."""
    info = FiringInfo(
        rule_id=plan.rule_id,
        dedupe_key=match.dedupe_key,
        employee_id=employee_id,
        event_id=event_id,
        # The conditions that held ((source, outcome) pairs from the matcher, or sources).
        matched=[m[0] if isinstance(m, tuple | list) else str(m) for m in match.matched],
        values=dict(match.values),
    )
    rule_input = RuleInput(plan=plan, firing=info, context={**ctx, "rule": rule_context(plan)})
    return {
        "rule_id": plan.rule_id,
        "dedupe_key": match.dedupe_key,
        "rule_digest": plan.digest,
        "workflow_id": workflow_id_for(plan.rule_id, match.dedupe_key),
        "event_id": event_id,
        "employee_id": employee_id,
        "status": "pending",
        "context": rule_input.model_dump(mode="json"),
        "created_at": utcnow(),
    }


def insert_firings(session: Session, rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Insert the firings not stored yet; returns workflow id -> firing id of those inserted.

    Rows whose (rule, dedupe key) exists are skipped: that rule has fired for that key.
    """
    existing: set[str] = set()
    for chunk in chunks(list(rows)):
        q = select(Firing.workflow_id).where(Firing.workflow_id.in_(chunk))
        existing.update(session.scalars(q))
    new = [row for wid, row in rows.items() if wid not in existing]
    if new and session.get_bind().dialect.name == "sqlite":  # at the driver: see sqlbatch
        names = list(new[0])
        found = sqlite_insert_new(session, Firing.__table__, names,
                                  [[row[n] for n in names] for row in new], ["id", "workflow_id"])
        return {wid: fid for fid, wid in found}
    # DO NOTHING settles a race with a concurrent batch firing the same rule and key.
    stmt = (
        dialect_insert(session, Firing)
        .on_conflict_do_nothing()
        .returning(Firing.id, Firing.workflow_id)
    )
    ids: dict[str, int] = {}
    for chunk in chunks(new):
        ids.update((wid, fid) for fid, wid in session.execute(stmt, chunk))
    return ids


@dataclass
class StartReport:
    started: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # {workflow id: reason} of the firings whose workflow ended badly (reconciler passes).
    ended: dict[str, str] = field(default_factory=dict)


def next_attempt_at(attempts: int, retry_seconds: float, now: datetime) -> datetime:
    """When a row that has failed `attempts` times may be tried again: exponential, capped."""
    delay = min(BACKOFF_CAP.total_seconds(), retry_seconds * 2 ** max(0, attempts - 1))
    return now + timedelta(seconds=delay)


async def start_firings(
    client: Client,
    session_factory: sessionmaker[Session],
    firing_ids: Iterable[int],
    task_queue: str,
    *,
    retry_seconds: float = RETRY_SECONDS,
) -> StartReport:
    """Start the RuleWorkflow of each pending firing; never raises for Temporal errors.

    Started ones are marked `started`; on a transient error the row stays `pending` with the
    error recorded and its next attempt pushed back (the reconciler retries it then); a
    permanent error fails it after `FAIL_AFTER` attempts, an input that can never start at once,
    and any error after `GIVE_UP_AFTER`.
    """
    ids = sorted(set(firing_ids))
    report = StartReport()
    if not ids:
        return report
    rows = await asyncio.to_thread(_load_pending, session_factory, ids)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def start(
        fid: int, wid: str, context: dict[str, Any], attempts: int
    ) -> tuple[int, str, str | None]:
        async with gate:
            try:
                rule_input = RuleInput.model_validate(context)
            except ValidationError as exc:
                return fid, "failed", f"stored input is not a valid RuleInput: {exc}"
            try:
                await client.start_workflow(
                    RULE_WORKFLOW,
                    rule_input,
                    id=wid,
                    task_queue=task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    rpc_timeout=RPC_TIMEOUT,
                    # Taken by this process's worker if it shares the client (`wendu up`).
                    request_eager_start=True,
                )
            except WorkflowAlreadyStartedError:
                pass  # it ran before: this rule has fired for this key already
            except Exception as exc:  # noqa: BLE001 - each is recorded on its row
                status, error = _start_error(exc, attempts)
                return fid, status, error
            return fid, "started", None

    results = await asyncio.gather(*(start(*row) for row in rows))
    tried = {fid: attempts for fid, _, _, attempts in rows}
    await asyncio.to_thread(_record, session_factory, results, tried, retry_seconds)
    for fid, status, error in results:
        getattr(report, status).append(fid)
        if error:
            log.warning("firing %s not started (%s): %s", fid, status, error)
    return report


def _load_pending(
    factory: sessionmaker[Session], ids: list[int]
) -> list[tuple[int, str, dict, int]]:
    out: list[tuple[int, str, dict, int]] = []
    with factory() as session:
        for chunk in chunks(ids):
            q = select(Firing.id, Firing.workflow_id, Firing.context, Firing.attempts).where(
                Firing.id.in_(chunk), Firing.status == "pending"
            )
            out += [tuple(r) for r in session.execute(q)]  # type: ignore[misc]
    return out


def _record(
    factory: sessionmaker[Session],
    results: Sequence[tuple[int, str, str | None]],
    tried: dict[int, int],
    retry_seconds: float,
) -> None:
    now = utcnow()
    # Only a pending row moves: a concurrent start that won is not overwritten.
    pending = Firing.status == "pending"
    with factory.begin() as session:
        # The usual outcome, all alike: one statement per chunk (a writer holds SQLite's lock
        # for every statement of its transaction).
        started = sorted(fid for fid, status, error in results if status == "started" and not error)
        for chunk in chunks(started):
            session.execute(update(Firing).where(Firing.id.in_(chunk), pending).values(
                status="started", error=None, attempts=Firing.attempts + 1, started_at=now))
        for fid, status, error in results:
            if status == "started" and not error:
                continue
            values: dict[str, Any] = {"status": status, "error": error,
                                      "attempts": Firing.attempts + 1}
            if status == "started":
                values["started_at"] = now
            elif status == "pending":
                values["next_attempt_at"] = next_attempt_at(tried[fid] + 1, retry_seconds, now)
            session.execute(update(Firing).where(Firing.id == fid, pending).values(**values))


class Reconciler:
    """Starts firings left pending (crash after commit, Temporal outage): a row never tried
    once it is old enough that its starter is surely done with it, a row that failed once its
    backoff has passed, the longest-due first.

    `busy` names the rows this process's starter still holds, so the two do not start the
    same workflow at once (harmless, but twice the load on Temporal when it is busiest).
    """

    def __init__(
        self,
        client: Client,
        session_factory: sessionmaker[Session],
        task_queue: str,
        retry_seconds: float,
        *,
        batch: int = 500,
        busy: Callable[[], Collection[int]] | None = None,
    ) -> None:
        self.client = client
        self.session_factory = session_factory
        self.task_queue = task_queue
        self.retry_seconds = retry_seconds
        self.batch = batch
        self.busy = busy
        self.ended = FailedWorkflows(client, session_factory)
        self._task: asyncio.Task | None = None

    async def run_once(self) -> StartReport:
        now = utcnow()
        cutoff = now - timedelta(seconds=self.retry_seconds)
        ids = await asyncio.to_thread(self._due, now, cutoff)
        if self.busy is not None:
            held = self.busy()
            ids = [i for i in ids if i not in held]
        report = await start_firings(self.client, self.session_factory, ids, self.task_queue,
                                     retry_seconds=self.retry_seconds)
        # Events owed to waiting workflows whose signal did not get through the first time.
        await deliver_waits(self.client, self.session_factory, cutoff=cutoff)
        # Workflows that ended badly since the last pass: their firings say so.
        report.ended = await self.ended.sweep()
        return report

    def _due(self, now: datetime, cutoff: datetime) -> list[int]:
        never_tried = and_(Firing.next_attempt_at.is_(None), Firing.created_at <= cutoff)
        with self.session_factory() as session:
            q = (
                select(Firing.id)
                .where(Firing.status == "pending",
                       or_(Firing.next_attempt_at <= now, never_tried))
                .order_by(func.coalesce(Firing.next_attempt_at, Firing.created_at), Firing.id)
                .limit(self.batch)
            )
            return list(session.scalars(q))

    async def run(self) -> None:
        interval = max(0.2, self.retry_seconds)
        while True:
            try:
                report = await self.run_once()
                if report.started:
                    log.info("reconciler started %d pending firing(s)", len(report.started))
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the loop
                log.exception("reconciler pass failed")
            await asyncio.sleep(interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="wendu-reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

