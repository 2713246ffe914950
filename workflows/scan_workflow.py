"""ScanWorkflow: a schedule fired; the scan activity evaluates the rule per employee and starts
a RuleWorkflow for each match (it heartbeats its progress, so a restart resumes the scan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from wendu.workflows.io import SCAN_SCHEDULE, ScanInput

SCAN_TIMEOUT = timedelta(hours=2)
SCAN_HEARTBEAT = timedelta(minutes=2)
SCAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=5,
)


@workflow.defn(name="ScanWorkflow")
class ScanWorkflow:
    """A schedule fired: the scan activity evaluates the rule per employee and fires matches."""

    @workflow.run
    async def run(self, inp: ScanInput) -> Any:
        return await workflow.execute_activity(
            SCAN_SCHEDULE,
            inp,
            start_to_close_timeout=SCAN_TIMEOUT,
            heartbeat_timeout=SCAN_HEARTBEAT,
            retry_policy=SCAN_RETRY,
        )
