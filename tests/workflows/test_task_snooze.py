"""Snoozing a task (the `snooze` update): its reminder and escalation wait for the snooze to end.

The task of `sc.task_plan()` is due in 2 days with a reminder 1 day before, and escalates to the
skip manager when due; the time-skipping server runs the days in moments.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from wendu.store.models import Notification
from wendu.workflows import RuleWorkflow, TaskWorkflow
from wendu.workflows.io import (
    TASK_ACT_UPDATE,
    TASK_SNOOZE_UPDATE,
    TASK_STATE_QUERY,
    SnoozeRequest,
    TaskAction,
    TaskView,
)
from wendu.workflows.rule_workflow import task_id_for


async def _start(env: WorkflowEnvironment, settings, sc) -> tuple[WorkflowHandle, str]:
    wid = f"rule/overtime-checkin/{uuid.uuid4().hex[:8]}"
    await env.client.start_workflow(RuleWorkflow.run, sc.rule_input(sc.task_plan()), id=wid,
                                    task_queue=settings.task_queue)
    task_id = task_id_for(wid, "steps[1]")
    task = env.client.get_workflow_handle_for(TaskWorkflow.run, f"task/{task_id}")
    async with asyncio.timeout(10):
        while True:
            try:
                if await task.query(TASK_STATE_QUERY, result_type=TaskView | None):
                    return task, task_id
            except RPCError:
                pass  # not started yet
            await asyncio.sleep(0.05)


async def _snooze(task: WorkflowHandle, actor: str, until: str) -> TaskView:
    return await task.execute_update(TASK_SNOOZE_UPDATE, SnoozeRequest(actor_id=actor, until=until),
                                     result_type=TaskView)


def _messages(store, task_id: str) -> list[tuple[str, str]]:
    with store() as session:
        rows = session.scalars(select(Notification).where(
            Notification.workflow_id == f"task/{task_id}", Notification.channel == "inapp"
        ).order_by(Notification.id))
        return [(r.template, r.recipient_id) for r in rows]


async def test_a_snoozed_task_escalates_only_after_the_snooze_ends(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    task, task_id = await _start(env, settings, sc)
    until = await env.get_current_time() + timedelta(days=3)

    for actor, when, refusal in (
        ("S1", until, "only M1, the assignee"),
        ("M1", until - timedelta(days=4), "has passed"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await _snooze(task, actor, when.isoformat())
        assert refusal in str(refused.value.cause)
    view = await _snooze(task, "M1", until.isoformat())
    assert view.snoozed_until == until.isoformat()

    # Past the reminder (day 1) and the due time (day 2): nothing, the task is still M1's.
    await env.sleep(timedelta(days=2, hours=12))
    state = await task.query(TASK_STATE_QUERY, result_type=TaskView)
    assert (state.assignee_id, state.escalation_level, state.status) == ("M1", 0, "open")
    assert state.snoozed_until == until.isoformat()
    assert _messages(session_factory, task_id) == [("task_assigned", "M1")]

    # The snooze ends on day 3: the reminder goes out, and the overdue task escalates.
    await env.sleep(timedelta(days=1))
    state = await task.query(TASK_STATE_QUERY, result_type=TaskView)
    assert (state.assignee_id, state.escalation_level) == ("S1", 1)
    assert state.snoozed_until is None
    assert _messages(session_factory, task_id) == [
        ("task_assigned", "M1"), ("task_reminder", "M1"), ("task_escalated", "S1")]

    await task.execute_update(TASK_ACT_UPDATE, TaskAction(action="complete", actor_id="S1",
                                                          comment="talked"),
                              result_type=TaskView)
    await env.sleep(timedelta(minutes=2))  # past the minute the completion could be undone
    await task.result()
    # The recorded history replays on the current code (the patch marker included).
    history = await task.fetch_history()
    await Replayer(workflows=[TaskWorkflow], data_converter=env.client.data_converter
                   ).replay_workflow(history)


async def test_an_unsnoozed_task_still_escalates_on_time(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    task, _ = await _start(env, settings, sc)
    await env.sleep(timedelta(days=2, hours=1))
    state = await task.query(TASK_STATE_QUERY, result_type=TaskView)
    assert (state.assignee_id, state.escalation_level, state.snoozed_until) == ("S1", 1, None)
    await task.execute_update(TASK_ACT_UPDATE, TaskAction(action="acknowledge", actor_id="S1"),
                              result_type=TaskView)
