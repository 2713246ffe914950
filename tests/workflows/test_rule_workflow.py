"""RuleWorkflow on the time-skipping server with the real store and activities."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from wendu.store.models import Notification, Outcome, ScoreRecord, Wait
from wendu.workflows import RuleWorkflow
from wendu.workflows.io import EVENT_SIGNAL, EventArrived, RuleResult


def _wid(name: str) -> str:
    return f"rule/{name}/{uuid.uuid4().hex[:8]}"


def _notifications(store) -> list[Notification]:
    with store() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


async def _until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_notify_reaches_exactly_the_manager_and_the_employee(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    wid = _wid("overtime-notice")
    result = await env.client.execute_workflow(
        RuleWorkflow.run, sc.rule_input(sc.notify_plan()), id=wid, task_queue=settings.task_queue
    )
    assert isinstance(result, RuleResult)
    assert result.steps_run == ["steps[0]", "steps[1]", "steps[2]", "steps[3]"]
    assert result.vars["risk"]["model_version"] == "baseline-1"

    rows = _notifications(session_factory)
    assert sorted((r.recipient_id, r.channel, r.key) for r in rows) == [
        ("E1", "inapp", f"{wid}/steps[1]/E1/inapp"),
        ("M1", "inapp", f"{wid}/steps[1]/M1/inapp"),
    ]
    manager = next(r for r in rows if r.recipient_id == "M1")
    # The why: the rule's title and version, the condition that matched and the value it saw.
    assert 'rule "Test rule" v3' in manager.body
    assert "profile.overtime_hours_7d > 20" in manager.body
    assert "profile.overtime_hours_7d = 24.5" in manager.body
    with session_factory() as session:
        score = session.scalars(select(ScoreRecord)).one()
        outcome = session.scalars(select(Outcome)).one()
    assert outcome.value == pytest.approx(score.value)
    history = await env.client.get_workflow_handle(wid).fetch_history()
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    assert [t.timer_started_event_attributes.start_to_fire_timeout.seconds for t in timers] == [
        86400
    ]
    assert outcome.metric == "burnout" and outcome.workflow_id == wid


async def test_wait_for_is_matched_by_a_signalled_event(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    wid = _wid("satisfaction-recovery")
    handle = await env.client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.wait_for_plan()), id=wid, task_queue=settings.task_queue
    )

    def registered() -> bool:
        with session_factory() as session:
            return session.get(Wait, (wid, "steps[0]")) is not None

    await _until(registered)
    # Not a match (too low), another employee's, then the match.
    await handle.signal(EVENT_SIGNAL, EventArrived(event=sc.survey_event("s-1", 2)))
    await handle.signal(EVENT_SIGNAL, EventArrived(event=sc.survey_event("s-2", 5, "E2")))
    await handle.signal(EVENT_SIGNAL, EventArrived(event=sc.survey_event("s-3", 4.5)))
    result = await handle.result()

    assert result.vars["survey"]["id"] == "s-3"
    assert result.steps_run == ["steps[0]", "steps[1]"]
    assert not registered()
    with session_factory() as session:
        assert session.scalars(select(Outcome.value)).all() == [4.5]
    assert _notifications(session_factory) == []


async def test_wait_for_timeout_runs_on_timeout(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    wid = _wid("satisfaction-recovery")
    result = await env.client.execute_workflow(
        RuleWorkflow.run, sc.rule_input(sc.wait_for_plan()), id=wid, task_queue=settings.task_queue
    )
    assert result.steps_run == ["steps[0]", "steps[0].on_timeout[0]", "steps[1]"]
    assert "survey" not in result.vars
    assert [(r.recipient_id, r.step_id) for r in _notifications(session_factory)] == [
        ("M1", "steps[0].on_timeout[0]")
    ]
    with session_factory() as session:
        assert session.scalars(select(Wait)).all() == []
        assert session.scalars(select(Outcome.value)).all() == [0.0]


async def test_expression_error_fails_the_rule_with_its_location(
    env: WorkflowEnvironment, worker, settings, sc
):
    bad = sc.plan(
        "broken",
        [
            {
                "kind": "set",
                "id": "steps[0]",
                "at": "rules/broken.yaml:7:9",
                "values": {"x": {"source": "profile.overtime_hours_7d / 0"}},
            }
        ],
    )
    with pytest.raises(WorkflowFailureError) as raised:
        await env.client.execute_workflow(
            RuleWorkflow.run, sc.rule_input(bad), id=_wid("broken"), task_queue=settings.task_queue
        )
    cause = raised.value.cause
    assert cause.type == "RuleError"
    assert cause.message.startswith("rules/broken.yaml:7:9: x: cannot evaluate")


async def test_a_record_value_that_is_no_number_fails_the_rule_where_it_is_written(
    env: WorkflowEnvironment, worker, settings, session_factory, sc
):
    bad = sc.plan(
        "counting",
        [
            {
                "kind": "record",
                "id": "steps[0]",
                "at": "rules/counting.yaml:9:5",
                "metric": "late",
                "value": {"source": "'many'"},
            }
        ],
    )
    with pytest.raises(WorkflowFailureError) as raised:
        await env.client.execute_workflow(
            RuleWorkflow.run, sc.rule_input(bad), id=_wid("counting"),
            task_queue=settings.task_queue,
        )
    cause = raised.value.cause
    assert cause.type == "RuleError"
    assert cause.message == "rules/counting.yaml:9:5: record late: 'many' is not a number"
    with session_factory() as session:
        assert session.scalars(select(Outcome)).all() == []
