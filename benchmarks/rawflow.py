"""The baseline of the Temporal benchmarks: a one-activity workflow on a bare worker.

The least a Temporal app does for one unit of work (start, one activity, complete) on the same
server: no sandbox, no database, no payload to speak of. A ratio to it is the price of
everything the engine's workflows do, sandbox included.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

STARTS_AT_ONCE = 32
WARM_UP = 20


@activity.defn(name="bench_noop")
async def noop(n: int) -> int:
    return n


@workflow.defn(name="BenchOneActivity")
class OneActivity:
    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(
            "bench_noop", n, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3))


async def raw_rate(client: Client, n: int) -> float:
    """Workflows/s for `n` one-activity workflows started (32 at once) and completed."""
    queue = f"bench-raw-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(STARTS_AT_ONCE)
    async with Worker(client, task_queue=queue, workflows=[OneActivity], activities=[noop],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        async def one(i: int) -> None:
            async with gate:
                handle = await client.start_workflow(OneActivity.run, i, id=f"{queue}-{i}",
                                                     task_queue=queue)
            await handle.result()

        # A new server or task queue is slow for its first few workflows: not what is measured.
        await asyncio.gather(*(one(-1 - i) for i in range(WARM_UP)))
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - t0)
