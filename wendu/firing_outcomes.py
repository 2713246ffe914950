"""Firings whose workflow ended badly (failed, terminated, timed out, cancelled): marked
`failed`, with the reason, so HR sees them.

A workflow can end without running any code of its own (an operator terminates it, a run
timeout fires, a worker keeps failing it), so the workflow cannot be trusted to report its own
end; Temporal's visibility store can. Each reconciler pass asks it for the RuleWorkflows that
closed badly since the last pass and marks their firings, reading the reason from each one's
close event. Nothing here changes workflow code, so running workflows replay as before.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHistoryEventFilterType,
)
from temporalio.service import RPCError

from wendu.store.models import Firing, utcnow

log = logging.getLogger(__name__)

RULE_WORKFLOW = "RuleWorkflow"
ENDED_BADLY = {
    WorkflowExecutionStatus.FAILED: "Failed",
    WorkflowExecutionStatus.TERMINATED: "Terminated",
    WorkflowExecutionStatus.TIMED_OUT: "TimedOut",
    WorkflowExecutionStatus.CANCELED: "Canceled",
}
_WORDS = {
    WorkflowExecutionStatus.FAILED: "the rule's workflow failed",
    WorkflowExecutionStatus.TERMINATED: "the rule's workflow was terminated",
    WorkflowExecutionStatus.TIMED_OUT: "the rule's workflow timed out",
    WorkflowExecutionStatus.CANCELED: "the rule's workflow was cancelled",
}
# The first pass after a start looks this far back, for the ends a stopped process missed.
LOOKBACK = timedelta(days=7)
# Visibility records a close a moment after it happens; each pass looks a little further back
# than the last one ended (marking a row twice is a no-op).
OVERLAP = timedelta(minutes=2)
MAX_REASON = 2000


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _failure_message(failure: Failure | None) -> str:
    # The workflow's own message names the rule step; "Activity task failed" and the like only
    # wrap what went wrong, so look below those.
    while failure is not None:
        wrapper = failure.HasField("activity_failure_info") or failure.HasField(
            "child_workflow_execution_failure_info"
        )
        if failure.message and not wrapper:
            return failure.message
        failure = failure.cause if failure.HasField("cause") else None
    return ""


class FailedWorkflows:
    """Marks the firings of RuleWorkflows that ended badly; `sweep` is one pass."""

    def __init__(
        self,
        client: Client,
        session_factory: sessionmaker[Session],
        *,
        lookback: timedelta = LOOKBACK,
    ):
        self.client = client
        self.session_factory = session_factory
        self.lookback = lookback
        self.since: datetime | None = None
        self._warned = False

    async def sweep(self) -> dict[str, str]:
        """{workflow id: reason} for the firings marked failed in this pass."""
        now = utcnow()
        since = self.since or now - self.lookback
        statuses = ", ".join(f"'{name}'" for name in ENDED_BADLY.values())
        query = (
            f"WorkflowType = '{RULE_WORKFLOW}' AND ExecutionStatus IN ({statuses}) "
            f"AND CloseTime >= '{_rfc3339(since)}'"
        )
        ended: dict[str, WorkflowExecution] = {}
        try:
            async for execution in self.client.list_workflows(query):
                ended[execution.id] = execution
        except RPCError as exc:
            if not self._warned:  # a visibility store without these queries: say so once
                log.warning(
                    "cannot list ended rule workflows (%s); failed firings are not marked", exc
                )
                self._warned = True
            return {}
        marked: dict[str, str] = {}
        if ended:
            unmarked = await asyncio.to_thread(self._unmarked, list(ended))
            for wid in unmarked:
                marked[wid] = await self._reason(ended[wid])
            await asyncio.to_thread(self._mark, marked)
            for wid, reason in marked.items():
                log.warning("firing of %s marked failed: %s", wid, reason)
        self.since = now - OVERLAP
        return marked

    def _unmarked(self, workflow_ids: list[str]) -> list[str]:
        with self.session_factory() as session:
            q = select(Firing.workflow_id).where(
                Firing.workflow_id.in_(workflow_ids), Firing.status.in_(("pending", "started"))
            )
            return list(session.scalars(q))

    def _mark(self, reasons: dict[str, str]) -> None:
        with self.session_factory.begin() as session:
            for wid, reason in reasons.items():
                session.execute(
                    update(Firing)
                    .where(Firing.workflow_id == wid, Firing.status.in_(("pending", "started")))
                    .values(status="failed", error=reason[:MAX_REASON])
                )

    async def _reason(self, execution: WorkflowExecution) -> str:
        status = execution.status or WorkflowExecutionStatus.FAILED
        words = _WORDS.get(status, "the rule's workflow ended")
        detail = ""
        handle = self.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            async for event in handle.fetch_history_events(
                event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
            ):
                if event.HasField("workflow_execution_failed_event_attributes"):
                    detail = _failure_message(
                        event.workflow_execution_failed_event_attributes.failure
                    )
                elif event.HasField("workflow_execution_terminated_event_attributes"):
                    detail = event.workflow_execution_terminated_event_attributes.reason
        except RPCError as exc:  # the history is gone (retention): the status still says it
            log.info("no close event for %s: %s", execution.id, exc)
        return f"{words}: {detail}" if detail else words
