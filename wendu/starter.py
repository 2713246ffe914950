"""The API's background starter: drains the firing outbox so no request waits for Temporal.

`POST /api/v1/events` commits its batch (firings `pending`, owed signals in `wait_deliveries`)
and hands the new ids to `Starter.submit`, which only appends to an in-memory queue. One task
takes whatever has queued up, a batch at a time, and starts the workflows (`start_firings`,
at most `CONCURRENCY` requests in flight) and sends the owed signals (`deliver_waits`).

The queue is only a shortcut: every row it holds is already committed, so a crash, a full
queue or a Temporal outage loses nothing; the `Reconciler` starts what is left over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from wendu.firing import RETRY_SECONDS, start_firings
from wendu.sqlbatch import CHUNK
from wendu.waits import deliver_waits

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000  # ids held in memory at most; beyond, the reconciler's pass takes over
STOP_SECONDS = 5.0  # how long shutdown waits for the queue to drain


@dataclass
class _Work:
    firings: list[int] = field(default_factory=list)
    waits: list[tuple[str, str]] = field(default_factory=list)

    def size(self) -> int:
        return len(self.firings) + len(self.waits)


class Starter:
    def __init__(
        self,
        client: Client,
        session_factory: sessionmaker[Session],
        task_queue: str,
        *,
        retry_seconds: float = RETRY_SECONDS,
        batch: int = CHUNK,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.client = client
        self.session_factory = session_factory
        self.task_queue = task_queue
        self.retry_seconds = retry_seconds
        self.batch = batch
        self.max_queued = max_queued
        # Firing ids handed over and not yet tried: the reconciler leaves these alone.
        self.busy: set[int] = set()
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        self._queued = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def submit(self, firing_ids: Iterable[int], waits: Iterable[tuple[str, str]] = ()) -> bool:
        """Queue committed firings and owed signals; never blocks, never raises.

        Returns False when they were not queued (stopping, or the queue is full): they are
        committed all the same, and the reconciler starts them after its cutoff.
        """
        work = _Work(list(firing_ids), list(waits))
        if not work.size():
            return True
        if self._closed or self._task is None:
            return False
        if self._queued + work.size() > self.max_queued:
            log.warning(
                "starter queue full (%d); %d item(s) left to the reconciler",
                self._queued,
                work.size(),
            )
            return False
        self.busy.update(work.firings)
        self._queued += work.size()
        self._queue.put_nowait(work)
        return True

    def _take(self, first: _Work) -> tuple[_Work, int]:
        """`first` and whatever else is queued, up to a batch: many small requests, one pass."""
        work, taken = first, 1
        while work.size() < self.batch and not self._queue.empty():
            more = self._queue.get_nowait()
            work.firings += more.firings
            work.waits += more.waits
            taken += 1
        return work, taken

    async def _run(self) -> None:
        while True:
            work, taken = self._take(await self._queue.get())
            try:
                for start in range(0, max(len(work.firings), len(work.waits)), self.batch):
                    await self._pass(
                        work.firings[start : start + self.batch],
                        work.waits[start : start + self.batch],
                    )
            except Exception:  # a database hiccup: the rows stay pending for the reconciler
                log.exception("starter pass failed")
            finally:
                self._queued -= work.size()
                self.busy.difference_update(work.firings)
                for _ in range(taken):
                    self._queue.task_done()

    async def _pass(self, firings: list[int], waits: list[tuple[str, str]]) -> None:
        jobs = []
        if firings:
            jobs.append(
                start_firings(
                    self.client,
                    self.session_factory,
                    firings,
                    self.task_queue,
                    retry_seconds=self.retry_seconds,
                )
            )
        if waits:
            jobs.append(deliver_waits(self.client, self.session_factory, keys=waits))
        await asyncio.gather(*jobs)

    def start(self) -> None:
        if self._task is None:
            self._closed = False
            self._task = asyncio.create_task(self._run(), name="wendu-starter")

    async def drained(self) -> None:
        """Returns once everything submitted so far has been tried (for tests and tools)."""
        await self._queue.join()

    async def stop(self, grace: float = STOP_SECONDS) -> None:
        """Take no more work, give the queue `grace` seconds to drain, then end the task.

        What is still queued or in flight then stays `pending` for the next reconciler pass.
        """
        self._closed = True
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained(), grace)
        if self._queued:
            log.warning("starter stopped with %d item(s) left to the reconciler", self._queued)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
        self._queued = 0
        self.busy.clear()
