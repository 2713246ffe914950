"""Deliver events to workflows waiting for them (`wait_for`), at least once, from an outbox.

Ingestion writes one `WaitDelivery` row per (waiting workflow, event) in the event's own
transaction. After the commit the API signals them at once; whatever could not be signalled
(Temporal unreachable, a crash in between) stays pending and the reconciler sends it again.
The workflow ignores an event id it has already seen, so a repeat is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from wendu.sqlbatch import chunks
from wendu.store.models import WaitDelivery, utcnow
from wendu.temporal import CONCURRENCY, RPC_TIMEOUT
from wendu.workflows.io import EVENT_SIGNAL, EventArrived

log = logging.getLogger(__name__)


def _pending(
    factory: sessionmaker[Session],
    keys: Iterable[tuple[str, str]] | None,
    cutoff: datetime | None,
    limit: int,
) -> list[WaitDelivery]:
    q = select(WaitDelivery).where(WaitDelivery.status == "pending")
    if cutoff is not None:
        q = q.where(WaitDelivery.created_at <= cutoff)
    wanted = set(keys) if keys is not None else None
    if wanted is not None:
        q = q.where(
            WaitDelivery.workflow_id.in_({w for w, _ in wanted}),
            WaitDelivery.event_id.in_({e for _, e in wanted}),
        )
    with factory() as session:
        rows = list(session.scalars(q.order_by(WaitDelivery.id).limit(limit)))
    if wanted is not None:
        rows = [r for r in rows if (r.workflow_id, r.event_id) in wanted]
    return rows


def _mark(factory: sessionmaker[Session], results: list[tuple[int, str, str | None]]) -> None:
    with factory.begin() as session:
        for rid, status, error in results:
            values: dict = {"status": status, "error": error,
                            "attempts": WaitDelivery.attempts + 1}
            if status != "pending":
                values["sent_at"] = utcnow()
            session.execute(
                update(WaitDelivery)
                .where(WaitDelivery.id == rid, WaitDelivery.status == "pending")
                .values(**values)
            )


async def deliver_waits(
    client: Client,
    factory: sessionmaker[Session],
    *,
    keys: Iterable[tuple[str, str]] | None = None,
    cutoff: datetime | None = None,
    limit: int = 1000,
) -> int:
    """Signal pending deliveries (those with these (workflow id, event id) keys, or all
    created before `cutoff`); returns how many were delivered."""
    if keys is not None:
        keys = list(keys)
        if not keys:
            return 0
    rows = await asyncio.to_thread(_pending, factory, keys, cutoff, limit)
    if not rows:
        return 0
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(row: WaitDelivery) -> tuple[int, str, str | None]:
        async with gate:
            try:
                await client.get_workflow_handle(row.workflow_id).signal(
                    EVENT_SIGNAL, EventArrived(event=row.event), rpc_timeout=RPC_TIMEOUT
                )
                return row.id, "sent", None
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    # The workflow finished (its wait timed out): nobody is owed this event.
                    return row.id, "gone", str(exc)
                log.warning("signal to %s failed: %s", row.workflow_id, exc)
                return row.id, "pending", str(exc)
            except Exception as exc:
                log.warning("signal to %s failed: %s", row.workflow_id, exc)
                return row.id, "pending", str(exc)

    results: list[tuple[int, str, str | None]] = []
    for chunk in chunks(rows):
        results += await asyncio.gather(*(send(r) for r in chunk))
    await asyncio.to_thread(_mark, factory, results)
    return sum(1 for _, status, _ in results if status == "sent")
