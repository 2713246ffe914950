from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from wendu.activities.outcomes import OutcomeActivities, ScoreActivities
from wendu.activities.tasks import TaskActivities
from wendu.scorers.registry import ScorerRegistry
from wendu.store.models import Outcome, ScoreRecord, Task, TaskAction, Wait
from wendu.workflows.io import (
    ApplyActionInput,
    CreateTaskInput,
    EscalateInput,
    RecordInput,
    ScoreInput,
    TaskInput,
    WaitRegistration,
)
from wendu.workflows.io import (
    TaskAction as Action,
)

DUE = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _create_input(sc, subject: str = "E1") -> CreateTaskInput:
    p = sc.task_plan()
    step = p.steps[1]
    task = TaskInput(
        task_key="rule/overtime-checkin/E1/steps[1]",
        task_id="T-0123456789abcdef",
        parent_workflow_id="rule/overtime-checkin/E1",
        rule_id=p.rule_id,
        step=step,
        title="Check in with 李雷",
        subject_employee_id=subject,
        context=sc.rule_input(p, subject).context,
    )
    return CreateTaskInput(task=task, workflow_id="task/T-0123456789abcdef", due_at=DUE.isoformat())


def _actions(store) -> list[tuple[str, str, str, str]]:
    with store() as session:
        rows = session.scalars(select(TaskAction).order_by(TaskAction.id))
        return [(a.action, a.actor_id, a.from_status, a.to_status) for a in rows]


async def test_create_is_idempotent_by_key(store, sc):
    tasks = TaskActivities(store)
    env = ActivityEnvironment()
    first = await env.run(tasks.create_task, _create_input(sc))
    again = await env.run(tasks.create_task, _create_input(sc))
    assert first == again
    assert (first.assignee_id, first.assignee_role, first.status) == ("M1", "manager", "open")
    assert datetime.fromisoformat(first.due_at) == DUE
    with store() as session:
        assert session.scalar(select(Task.parent_workflow_id)) == "rule/overtime-checkin/E1"
        assert len(session.scalars(select(Task)).all()) == 1


async def test_create_without_assignee_is_not_retryable(store, sc):
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(TaskActivities(store).create_task, _create_input(sc, "E2"))
    assert raised.value.non_retryable and raised.value.type == "NoAssignee"


async def test_escalate_moves_the_task_once(store, sc):
    tasks = TaskActivities(store)
    env = ActivityEnvironment()
    view = await env.run(tasks.create_task, _create_input(sc))
    new_due = (DUE + timedelta(days=2)).isoformat()
    up = EscalateInput(
        task_id=view.id, role="skip_manager", level=1, due_at=new_due, subject_employee_id="E1"
    )
    escalated = await env.run(tasks.escalate_task, up)
    retried = await env.run(tasks.escalate_task, up)
    assert escalated == retried
    assert (escalated.assignee_id, escalated.escalation_level) == ("S1", 1)
    assert datetime.fromisoformat(escalated.due_at) == DUE + timedelta(days=2)
    assert _actions(store) == [("escalate", "wendu", "open", "open")]


async def test_escalate_to_nobody_leaves_the_task(store, sc):
    tasks = TaskActivities(store)
    env = ActivityEnvironment()
    view = await env.run(tasks.create_task, _create_input(sc))
    up = EscalateInput(
        task_id=view.id, role="group:nobody", level=1, due_at=view.due_at, subject_employee_id="E1"
    )
    assert await env.run(tasks.escalate_task, up) == view
    assert _actions(store) == []


async def test_action_records_from_and_to_status_once(store, sc):
    tasks = TaskActivities(store)
    env = ActivityEnvironment()
    view = await env.run(tasks.create_task, _create_input(sc))
    act = ApplyActionInput(
        task_id=view.id, action=Action(action="complete", actor_id="M1", comment="谈过了")
    )
    done = await env.run(tasks.apply_task_action, act)
    assert await env.run(tasks.apply_task_action, act) == done  # a retry
    assert (done.status, done.comment) == ("completed", "谈过了")
    assert _actions(store) == [("complete", "M1", "open", "completed")]

    other = ApplyActionInput(
        task_id=view.id, action=Action(action="dismiss", actor_id="M1", comment="x")
    )
    with pytest.raises(ApplicationError) as raised:
        await env.run(tasks.apply_task_action, other)
    assert raised.value.non_retryable and "already completed" in str(raised.value)
    assert len(_actions(store)) == 1


async def test_record_outcome_and_waits_are_idempotent(store):
    outcomes = OutcomeActivities(store)
    env = ActivityEnvironment()
    rec = RecordInput(
        workflow_id="w", step_id="steps[2]", rule_id="r", employee_id="E1", metric="m", value=2.5
    )
    assert await env.run(outcomes.record_outcome, rec) is True
    assert await env.run(outcomes.record_outcome, rec) is False
    wait = WaitRegistration(
        workflow_id="w", step_id="steps[0]", event_type="survey.response", employee_id="E1"
    )
    await env.run(outcomes.register_wait, wait)
    await env.run(outcomes.register_wait, wait)
    with store() as session:
        assert session.scalars(select(Outcome.value)).all() == [2.5]
        assert len(session.scalars(select(Wait)).all()) == 1
    await env.run(outcomes.clear_wait, wait)
    await env.run(outcomes.clear_wait, wait)
    with store() as session:
        assert session.scalars(select(Wait)).all() == []


async def test_score_is_recorded_once_with_its_model_version(store):
    registry = ScorerRegistry.default()
    scores = ScoreActivities(store, registry)
    env = ActivityEnvironment()
    ctx = {"profile": {"overtime_hours_7d": 25, "late_departures_7d": 4}}
    inp = ScoreInput(
        workflow_id="w", step_id="steps[0]", scorer="burnout", employee_id="E1", context=ctx
    )
    first = await env.run(scores.score, inp)
    # A retry after a new model was deployed still answers what was recorded.
    again = await env.run(scores.score, inp.model_copy(update={"context": {"profile": {}}}))
    assert first == again
    assert first.model_version == "baseline-1" and first.label in {"medium", "high"}
    assert first.factors[0]["name"] == "overtime_hours_7d"
    with store() as session:
        rows = session.scalars(select(ScoreRecord)).all()
    assert [(r.scorer, r.model_version, r.value) for r in rows] == [
        ("burnout", "baseline-1", first.value)
    ]

    with pytest.raises(ApplicationError) as raised:
        await env.run(scores.score, inp.model_copy(update={"scorer": "nope", "step_id": "x"}))
    assert raised.value.non_retryable and raised.value.type == "UnknownScorer"
