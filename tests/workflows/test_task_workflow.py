"""TaskWorkflow (as a child of RuleWorkflow): reminders, escalation and the `act` update."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from wendu.store.models import Notification, Task, TaskAction
from wendu.workflows import RuleWorkflow, TaskWorkflow
from wendu.workflows.io import TASK_ACT_UPDATE, TASK_STATE_QUERY, TaskView
from wendu.workflows.io import TaskAction as Action
from wendu.workflows.rule_workflow import task_id_for


async def _start(env: WorkflowEnvironment, settings, sc, **plan_options):
    wid = f"rule/overtime-checkin/{uuid.uuid4().hex[:8]}"
    rule = await env.client.start_workflow(
        RuleWorkflow.run,
        sc.rule_input(sc.task_plan(**plan_options)),
        id=wid,
        task_queue=settings.task_queue,
    )
    task_id = task_id_for(wid, "steps[1]")
    task = env.client.get_workflow_handle_for(TaskWorkflow.run, f"task/{task_id}")
    async with asyncio.timeout(10):
        while True:
            try:
                if await task.query(TASK_STATE_QUERY, result_type=TaskView | None):
                    break
            except RPCError:
                pass  # not started yet
            await asyncio.sleep(0.05)
    return rule, task, task_id


async def _act(
    task: WorkflowHandle, action: str, actor: str, comment: str | None = None
) -> TaskView:
    return await task.execute_update(
        TASK_ACT_UPDATE,
        Action(action=action, actor_id=actor, comment=comment),
        result_type=TaskView,
    )


def _messages(store, task_id: str) -> list[tuple[str, str]]:
    with store() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.workflow_id == f"task/{task_id}")
            .order_by(Notification.id)
        )
        return [(r.template, r.recipient_id) for r in rows]


async def test_unanswered_task_is_escalated_to_the_skip_manager_after_two_days(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    rule, task, task_id = await _start(env, settings, sc)
    state = await task.query(TASK_STATE_QUERY, result_type=TaskView)
    assert (state.assignee_id, state.title) == ("M1", "Check in with 李雷 (24.5 h)")

    await env.sleep(timedelta(days=1, hours=1))
    assert _messages(session_factory, task_id) == [("task_assigned", "M1"), ("task_reminder", "M1")]

    await env.sleep(timedelta(days=1))
    state = await task.query(TASK_STATE_QUERY, result_type=TaskView)
    assert (state.assignee_id, state.assignee_role, state.escalation_level) == (
        "S1",
        "skip_manager",
        1,
    )
    assert _messages(session_factory, task_id) == [
        ("task_assigned", "M1"),
        ("task_reminder", "M1"),
        ("task_escalated", "S1"),
    ]
    with session_factory() as session:
        row = session.get(Task, task_id)
        actions = session.scalars(select(TaskAction.action)).all()
        escalated = session.scalars(
            select(Notification).where(Notification.template == "task_escalated")
        ).one()
    assert (row.assignee_id, row.escalation_level, row.status) == ("S1", 1, "open")
    assert actions == ["escalate"]
    assert escalated.locale == "en"  # S1 prefers en-US
    assert escalated.key.endswith("/S1/inapp/escalated/1")

    # The skip manager closes it; the rule goes on with the outcome.
    await _act(task, "complete", "S1", "Talked with Li Lei; rebalanced the sprint")
    result = await rule.result()
    assert result.vars["checkin"]["escalation_level"] == 1
    assert "steps[2].then[0]" in result.steps_run


async def test_act_completes_the_task_and_the_rule_takes_the_then_branch(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    rule, task, task_id = await _start(env, settings, sc)
    view = await _act(task, "complete", "M1", "聊过了，下周调休")
    assert (view.status, view.comment) == ("completed", "聊过了，下周调休")
    await env.sleep(timedelta(minutes=2))  # the outcome stands once its undo minute is over
    outcome = await task.result()
    assert (outcome.status, outcome.actor_id, outcome.escalation_level) == ("completed", "M1", 0)
    result = await rule.result()
    assert result.vars["checkin"]["status"] == "completed"
    assert result.steps_run == ["steps[0]", "steps[1]", "steps[2]", "steps[2].then[0]"]
    with session_factory() as session:
        done = session.scalars(select(Notification).where(Notification.template == "done")).one()
        assert session.get(Task, task_id).status == "completed"
    assert (done.recipient_id, done.body) == ("E1", "M1：聊过了，下周调休")
    # Acted before the reminder: only the assignment was sent.
    assert _messages(session_factory, task_id) == [("task_assigned", "M1")]


async def test_dismissed_task_takes_the_else_branch(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    rule, task, _ = await _start(env, settings, sc)
    await _act(task, "dismiss", "M1", "on leave this week")
    result = await rule.result()
    assert result.vars["checkin"]["status"] == "dismissed"
    assert result.steps_run[-1] == "steps[2].else[0]"


@pytest.mark.parametrize(
    ("action", "actor", "comment", "reason"),
    [
        ("complete", "E1", "done", "not assigned"),
        ("complete", "M1", None, "needs a comment"),
        ("dismiss", "M1", "  ", "needs a reason"),
    ],
)
async def test_invalid_action_is_rejected_and_changes_nothing(
    env: WorkflowEnvironment, worker, settings, session_factory, sc, action, actor, comment, reason
):
    _, task, task_id = await _start(env, settings, sc)
    before = await task.query(TASK_STATE_QUERY, result_type=TaskView)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await _act(task, action, actor, comment)
    assert reason in str(raised.value.cause)
    assert await task.query(TASK_STATE_QUERY, result_type=TaskView) == before
    with session_factory() as session:
        assert session.get(Task, task_id).status == "open"
        assert session.scalars(select(TaskAction)).all() == []
    history = await task.fetch_history()
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events
    )


async def test_action_after_finish_is_rejected(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    rule, task, task_id = await _start(env, settings, sc)
    await _act(task, "dismiss", "M1", "on leave")
    await rule.result()  # a minute later, once the dismissal can no longer be undone
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await _act(task, "complete", "M1", "again")
    with session_factory() as session:
        assert session.get(Task, task_id).status == "dismissed"
        assert session.scalars(select(TaskAction.action)).all() == ["dismiss"]
