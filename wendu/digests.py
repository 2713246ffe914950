"""The hourly schedule that sends daily digests (messages held back by the daily cap).

Created by every worker at start, "create, else leave": several workers share one schedule.
Hourly, because each recipient's local day ends at its own hour of UTC.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError

log = logging.getLogger(__name__)
DIGEST_SCHEDULE_ID = "wendu-digest"


def digest_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "DigestWorkflow", id="digest", task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_digest_schedule(client: Client, task_queue: str) -> bool:
    """True when the schedule was created now, False when it was there already."""
    try:
        await client.create_schedule(DIGEST_SCHEDULE_ID, digest_schedule(task_queue))
    except ScheduleAlreadyRunningError:
        return False
    except RPCError as exc:
        # A server without schedules (the time-skipping test server) still runs the rules;
        # folded messages wait in the store until a digest run.
        log.warning("digest schedule not created: %s", exc)
        return False
    log.info("digest schedule %s created (hourly)", DIGEST_SCHEDULE_ID)
    return True
