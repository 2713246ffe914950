"""A task's states as people expect them: acknowledged is "I'm on it" (no reminders, no
escalation, still open until completed or dismissed), the last action can be undone for a
minute, and a task can be delegated or reassigned with a comment; every step is in the log.

The task of `sc.task_plan()` is due in 2 days with a reminder 1 day before, and escalates to
the skip manager when due; the time-skipping server runs the days in moments.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from wendu.store.models import Task, TaskAction
from wendu.workflows.io import TASK_STATE_QUERY, TASK_UNDO_UPDATE, TaskView, UndoRequest

from .test_task_workflow import _act, _messages, _start


async def _undo(task: WorkflowHandle, actor: str) -> TaskView:
    return await task.execute_update(TASK_UNDO_UPDATE, UndoRequest(actor_id=actor),
                                     result_type=TaskView)


def _log(store, task_id: str) -> list[tuple[str, str, str, str]]:
    with store() as session:
        rows = session.scalars(select(TaskAction).where(TaskAction.task_id == task_id)
                               .order_by(TaskAction.id))
        return [(r.action, r.actor_id, r.from_status, r.to_status) for r in rows]


async def _state(task: WorkflowHandle) -> TaskView:
    return await task.query(TASK_STATE_QUERY, result_type=TaskView)


async def test_acknowledged_task_stays_open_without_reminders_until_completed(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    rule, task, task_id = await _start(env, settings, sc)
    view = await _act(task, "acknowledge", "M1")
    assert view.status == "acknowledged"
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await _act(task, "acknowledge", "M1")
    assert "in progress already" in str(again.value.cause)

    # A week on: no reminder, no escalation; still M1's, still open.
    await env.sleep(timedelta(days=7))
    state = await _state(task)
    assert (state.status, state.assignee_id, state.escalation_level) == ("acknowledged", "M1", 0)
    assert _messages(session_factory, task_id) == [("task_assigned", "M1")]
    with session_factory() as session:
        assert session.get(Task, task_id).closed_at is None

    await _act(task, "complete", "M1", "谈过了")
    await env.sleep(timedelta(minutes=2))
    result = await rule.result()
    assert result.vars["checkin"]["status"] == "completed"
    assert _log(session_factory, task_id) == [
        ("acknowledge", "M1", "open", "acknowledged"),
        ("complete", "M1", "acknowledged", "completed"),
    ]


async def test_a_completion_undone_within_the_minute_leaves_the_task_open(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    rule, task, task_id = await _start(env, settings, sc)
    await _act(task, "acknowledge", "M1")
    done = await _act(task, "complete", "M1", "mis-click")
    assert done.undo_by == "M1" and done.undo_until
    with pytest.raises(WorkflowUpdateFailedError) as stranger:
        await _undo(task, "S1")
    assert "only M1 undoes" in str(stranger.value.cause)

    view = await _undo(task, "M1")
    assert view.status == "acknowledged"  # back to in progress, as before the click
    await env.sleep(timedelta(minutes=5))
    with session_factory() as session:
        row = session.get(Task, task_id)
        assert (row.status, row.closed_at, row.outcome_comment) == ("acknowledged", None, None)
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await _undo(task, "M1")  # the acknowledgement is minutes old: it stands
    assert "nothing to undo" in str(late.value.cause)

    # The rule did not go on with the undone completion; the real one decides.
    await _act(task, "dismiss", "M1", "moved teams")
    await env.sleep(timedelta(minutes=2))
    assert (await rule.result()).vars["checkin"]["status"] == "dismissed"
    assert [a for a, *_ in _log(session_factory, task_id)] == [
        "acknowledge", "complete", "undo", "dismiss"]


async def test_undone_acknowledgement_brings_the_reminder_and_escalation_back(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    _, task, task_id = await _start(env, settings, sc)
    await _act(task, "acknowledge", "M1")
    assert (await _undo(task, "M1")).status == "open"
    await env.sleep(timedelta(days=2, hours=1))
    state = await _state(task)
    assert (state.assignee_id, state.escalation_level) == ("S1", 1)
    assert _messages(session_factory, task_id) == [
        ("task_assigned", "M1"), ("task_reminder", "M1"), ("task_escalated", "S1")]


async def test_delegated_task_is_the_new_assignees_and_they_are_told(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    _, task, task_id = await _start(env, settings, sc)
    await _act(task, "acknowledge", "M1")
    for action, actor, to, refusal in (
        ("delegate", "M1", None, "needs to_id"),
        ("delegate", "S1", "E2", "only M1, the assignee, delegates"),
        ("delegate", "M1", "M1", "is M1's already"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await task.execute_update("act", {"action": action, "actor_id": actor,
                                              "comment": "x", "to_id": to}, result_type=TaskView)
        assert refusal in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as silent:
        await _act(task, "delegate", "M1")
    assert "needs a comment" in str(silent.value.cause)

    view = await task.execute_update(
        "act", {"action": "delegate", "actor_id": "M1", "comment": "H1 knows the team",
                "to_id": "H1"}, result_type=TaskView)
    assert (view.assignee_id, view.status) == ("H1", "open")  # H1 has not taken it on yet
    await env.sleep(timedelta(hours=1))
    assert _messages(session_factory, task_id)[-1] == ("task_assigned", "H1")
    [*_, delegated] = _log(session_factory, task_id)
    assert delegated == ("delegate", "M1", "acknowledged", "open")
    with session_factory() as session:
        comment = session.scalars(select(TaskAction.comment).where(
            TaskAction.action == "delegate")).one()
    assert comment == "M1 -> H1: H1 knows the team"
    # M1 handed it on, so M1 no longer has it to undo.
    with pytest.raises(WorkflowUpdateFailedError):
        await _undo(task, "M1")


async def test_reassigning_to_someone_who_left_is_refused_and_changes_nothing(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    _, task, task_id = await _start(env, settings, sc)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await task.execute_update(
            "act", {"action": "reassign", "actor_id": "H2", "comment": "M1 is on leave",
                    "to_id": "H3"}, result_type=TaskView)
    assert "'H3' is no active employee" in str(refused.value.cause)
    view = await task.execute_update(
        "act", {"action": "reassign", "actor_id": "H2", "comment": "M1 is on leave",
                "to_id": "S1"}, result_type=TaskView)
    assert view.assignee_id == "S1"
    assert _log(session_factory, task_id) == [("reassign", "H2", "open", "open")]
