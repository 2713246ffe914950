"""Quiet hours in a workflow, and DigestWorkflow (what the daily cap held back, sent hourly).

A held message is a durable timer: the workflow sleeps until the recipient's quiet hours end,
so a worker restart or a deploy in between neither loses it nor sends it early. Recipients in
different time zones are held separately: each group is delivered when its own night ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from wendu.workflows.io import (
        REACH,
        SEND_DIGESTS,
        DigestInput,
        DigestResult,
        ReachInput,
        ReachResult,
    )

# The patch id of the notification policy: workflows recorded before it deliver at once.
POLICY_PATCH = "notification-policy"
REACH_TIMEOUT = timedelta(seconds=10)
REACH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)
DIGEST_TIMEOUT = timedelta(minutes=10)
DIGEST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=5,
)
Send = Callable[[list[str]], Awaitable[None]]


async def reach(inp: ReachInput) -> ReachResult:
    return await workflow.execute_local_activity(
        REACH,
        inp,
        result_type=ReachResult,
        start_to_close_timeout=REACH_TIMEOUT,
        retry_policy=REACH_RETRY,
    )


async def deliver_when_reachable(send: Send, inp: ReachInput) -> None:
    """Calls `send(only_ids)` for those reachable now, then for each held group at its time.

    `send([])` means everyone the roles name: the plain case, with nobody held.
    """
    found = await reach(inp)
    if not found.held:
        await send([])
        return
    if found.now_ids:
        await send(found.now_ids)
    for group in found.held:
        await sleep_until(datetime.fromisoformat(group.at))
        await send(group.recipient_ids)


async def sleep_until(at: datetime) -> None:
    remaining = at - workflow.now()
    if remaining >= timedelta(milliseconds=1):  # timers are whole milliseconds
        await workflow.sleep(remaining)


@workflow.defn(name="DigestWorkflow")
class DigestWorkflow:
    """Started hourly by the `wendu-digest` schedule: sends the digests that are due."""

    @workflow.run
    async def run(self) -> DigestResult:
        return await workflow.execute_activity(
            SEND_DIGESTS,
            DigestInput(now=workflow.now().isoformat()),
            result_type=DigestResult,
            start_to_close_timeout=DIGEST_TIMEOUT,
            retry_policy=DIGEST_RETRY,
        )
