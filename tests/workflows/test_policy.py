"""The notification policy on the time-skipping server: quiet hours, the daily cap, urgency.

The clock is moved to the hour a test is about (23:00 in Shanghai) before the rule fires; the
store and the activities are the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from wendu.digests import ensure_digest_schedule
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification
from wendu.workflows import DigestWorkflow, RuleWorkflow
from wendu.workflows.io import DigestResult

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def settings(sc):
    return sc.settings().model_copy(update={"quiet_hours": "21:00-08:00", "daily_cap": 5})


def notify_plan(sc, *, to=("manager",), urgent=False, policy=None):
    plan = sc.plan("policy-test", [{
        "kind": "notify", "id": "steps[0]", "to": [{"role": r} for r in to],
        "channels": ["inapp"], "template": "notice", "urgent": urgent,
    }])
    return plan.model_copy(update={"policy": policy}) if policy else plan


async def move_clock_to(env: WorkflowEnvironment, hour: int, minute: int = 0) -> datetime:
    """Skips the server's clock to the next hour:minute in Shanghai; that moment, in Shanghai."""
    now = (await env.get_current_time()).astimezone(SHANGHAI)
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    await env.sleep(target - now)
    return target


async def fire(env, settings, sc, plan, employee_id="E1"):
    wid = f"rule/policy-test/{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(
        RuleWorkflow.run, sc.rule_input(plan, employee_id), id=wid,
        task_queue=settings.task_queue)
    return handle


async def run_digest(env, settings) -> DigestResult:
    return await env.client.execute_workflow(
        DigestWorkflow.run, id=f"digest-{uuid.uuid4().hex[:6]}", task_queue=settings.task_queue,
        result_type=DigestResult)


def rows(store) -> list[Notification]:
    with store() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def at_about(instant: datetime, expected: datetime) -> bool:
    """At `expected` or within the minute after it (a workflow task takes a moment)."""
    return timedelta(0) <= instant - expected < timedelta(minutes=1)


def local(row: Notification, zone=SHANGHAI) -> datetime:
    return row.created_at.astimezone(zone)


async def timer_started(handle) -> list[int]:
    """Durations (s) of the timers the workflow has started so far, once it has started one."""
    async with asyncio.timeout(10):
        while True:
            history = await handle.fetch_history()
            timers = [e.timer_started_event_attributes.start_to_fire_timeout.seconds
                      for e in history.events if e.HasField("timer_started_event_attributes")]
            if timers:
                return timers
            await asyncio.sleep(0.05)


async def test_a_message_due_at_23_arrives_at_08_the_next_morning(
    env, worker, settings, session_factory, sc
):
    fired = await move_clock_to(env, 23)
    handle = await fire(env, settings, sc, notify_plan(sc, to=("manager", "employee")))
    [held] = await timer_started(handle)
    assert 9 * 3600 - 60 < held <= 9 * 3600
    assert rows(session_factory) == []  # held, not sent, while the timer runs

    await handle.result()
    delivered = rows(session_factory)
    assert sorted(r.recipient_id for r in delivered) == ["E1", "M1"]
    morning = (fired + timedelta(days=1)).replace(hour=8)
    for row in delivered:
        assert row.status == "delivered"
        assert at_about(local(row), morning)
        assert at_about(row.sent_at.astimezone(SHANGHAI), morning)


async def test_an_urgent_message_at_23_is_delivered_at_once(
    env, worker, settings, session_factory, sc
):
    fired = await move_clock_to(env, 23)
    with env.auto_time_skipping_disabled():
        handle = await fire(env, settings, sc, notify_plan(sc, urgent=True))
        await handle.result()
    [row] = rows(session_factory)
    assert row.recipient_id == "M1" and row.status == "delivered"
    assert at_about(local(row), fired)
    history = await handle.fetch_history()
    assert not any(e.HasField("timer_started_event_attributes") for e in history.events)


async def test_recipients_in_other_time_zones_are_held_by_their_own_night(
    env, worker, settings, session_factory, sc
):
    with transaction(session_factory) as session:
        session.get(Employee, "M1").timezone = "Europe/Berlin"
    fired = await move_clock_to(env, 23)  # afternoon in Berlin
    handle = await fire(env, settings, sc, notify_plan(sc, to=("manager", "employee")))
    await handle.result()
    by_person = {r.recipient_id: r for r in rows(session_factory)}
    assert at_about(local(by_person["M1"]), fired)
    assert at_about(local(by_person["E1"]), (fired + timedelta(days=1)).replace(hour=8))


async def test_the_sixth_message_of_a_day_is_folded_into_one_digest(
    env, worker, settings, session_factory, sc
):
    await move_clock_to(env, 10)
    # No timers here: the clock is held still, so all six fall on the same day.
    with env.auto_time_skipping_disabled():
        for _ in range(6):
            await (await fire(env, settings, sc, notify_plan(sc))).result()
    sent = rows(session_factory)
    assert [r.status for r in sent] == ["delivered"] * 5 + ["digest"]
    folded = sent[-1]
    assert folded.sent_at is None

    # Still the same day: nothing is sent. The next morning, one digest, and only one.
    with env.auto_time_skipping_disabled():
        assert (await run_digest(env, settings)).sent == []
    await move_clock_to(env, 9)
    with env.auto_time_skipping_disabled():
        results = [await run_digest(env, settings) for _ in range(2)]
    after = rows(session_factory)
    digests = [r for r in after if r.template == "digest"]
    assert len(digests) == 1 and digests[0].recipient_id == "M1"
    assert digests[0].status == "delivered"
    assert "Heads-up: 李雷" in digests[0].body and "1 message" in digests[0].subject
    assert results[0].sent == [digests[0].workflow_id] and results[1].sent == []
    assert next(r for r in after if r.id == folded.id).digest_key == digests[0].workflow_id


async def test_a_rules_policy_overrides_the_settings(env, worker, settings, session_factory, sc):
    from wendu.rules.plan import Policy

    plan = notify_plan(sc, policy=Policy(quiet_hours="", daily_cap=2))
    fired = await move_clock_to(env, 23)
    with env.auto_time_skipping_disabled():
        for _ in range(3):
            await (await fire(env, settings, sc, plan)).result()
    sent = rows(session_factory)
    assert [r.status for r in sent] == ["delivered", "delivered", "digest"]
    assert all(at_about(local(r), fired) for r in sent)


async def test_a_server_without_schedules_does_not_stop_the_worker(env, settings):
    # The time-skipping server has no schedules: the worker goes on without one.
    assert await ensure_digest_schedule(env.client, settings.task_queue) is False


async def test_a_task_assigned_at_night_is_announced_in_the_morning(
    env, worker, settings, session_factory, sc
):
    from wendu.store.models import Task
    from wendu.workflows.rule_workflow import task_id_for

    fired = await move_clock_to(env, 23)
    rule = await fire(env, settings, sc, sc.task_plan())
    task = env.client.get_workflow_handle(f"task/{task_id_for(rule.id, 'steps[1]')}")
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    timers = await timer_started(task)
                    break
                except Exception:  # the child has not started yet
                    await asyncio.sleep(0.05)
        # The message's timer; the reminder's runs beside it (the task is not held up).
        assert any(9 * 3600 - 60 < held <= 9 * 3600 for held in timers)
        with session_factory() as session:
            opened = session.scalars(select(Task)).one()
        assert opened.status == "open"  # the task is there at once; only its message waits
        assert rows(session_factory) == []

        await env.sleep(timedelta(hours=9, minutes=1))
        async with asyncio.timeout(10):
            while not rows(session_factory):
                await asyncio.sleep(0.05)
        [message] = rows(session_factory)
        assert message.recipient_id == "M1" and message.template == "task_assigned"
        assert at_about(local(message), (fired + timedelta(days=1)).replace(hour=8))
    finally:
        await stop(rule, task)


async def test_the_digest_schedule_is_created_once_and_runs_hourly(temporal_dev_server_path):
    from temporalio.contrib.pydantic import pydantic_data_converter

    from wendu.digests import DIGEST_SCHEDULE_ID

    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_dev_server_path,
        dev_server_extra_args=["--log-level", "error"],
        data_converter=pydantic_data_converter,
    ) as local_env:
        assert await ensure_digest_schedule(local_env.client, "q") is True
        assert await ensure_digest_schedule(local_env.client, "q") is False  # a second worker
        described = await local_env.client.get_schedule_handle(DIGEST_SCHEDULE_ID).describe()
        [interval] = described.schedule.spec.intervals
        assert interval.every == timedelta(hours=1)
        assert described.schedule.action.workflow == "DigestWorkflow"


async def start_task(env, settings, sc, plan):
    """Fires a task rule; the rule, its task's workflow and the task id, once the task exists."""
    from wendu.workflows.io import TASK_STATE_QUERY, TaskView
    from wendu.workflows.rule_workflow import task_id_for

    rule = await fire(env, settings, sc, plan)
    task_id = task_id_for(rule.id, "steps[1]")
    task = env.client.get_workflow_handle(f"task/{task_id}")
    async with asyncio.timeout(10):
        while True:
            try:
                if await task.query(TASK_STATE_QUERY, result_type=TaskView | None):
                    return rule, task, task_id
            except Exception:  # the child has not started yet
                pass
            await asyncio.sleep(0.05)


async def stop(*handles) -> None:
    """Terminates what a test left running: its timers must not fire in a later test, whose
    worker is another (the server would wait for a workflow task nobody picks up)."""
    for handle in handles:
        with contextlib.suppress(RPCError):
            await handle.terminate()


def task_messages(store, task_id: str) -> list[Notification]:
    return [r for r in rows(store) if r.workflow_id == f"task/{task_id}"]


async def sleep_until(env: WorkflowEnvironment, local_time: datetime) -> None:
    await env.sleep(local_time - await env.get_current_time())


async def test_a_reminder_due_at_23_arrives_at_08_the_next_morning(
    env, worker, settings, session_factory, sc
):
    fired = await move_clock_to(env, 10)
    # Due in two days at 10:00; reminded 35 hours before, at 23:00 tonight.
    rule, task, task_id = await start_task(
        env, settings, sc, sc.task_plan(reminders=[35 * 3600]))
    try:
        await sleep_until(env, fired.replace(hour=23, minute=30))
        assert [r.template for r in task_messages(session_factory, task_id)] == [
            "task_assigned"]  # sent at once at 10:00; the reminder is held

        morning = (fired + timedelta(days=1)).replace(hour=8)
        await sleep_until(env, morning + timedelta(minutes=1))
        sent = task_messages(session_factory, task_id)
        assert [(r.template, r.recipient_id) for r in sent] == [
            ("task_assigned", "M1"), ("task_reminder", "M1")]
        assert at_about(local(sent[0]), fired)
        assert at_about(local(sent[1]), morning)
    finally:
        await stop(rule, task)


async def test_an_urgent_task_is_announced_and_reminded_at_night(
    env, worker, settings, session_factory, sc
):
    fired = await move_clock_to(env, 23)
    # Due in two days at 23:00; reminded a day before, at 23:00 tomorrow night.
    rule, task, task_id = await start_task(
        env, settings, sc, sc.task_plan(reminders=[24 * 3600], urgent=True))
    try:
        async with asyncio.timeout(10):
            while not task_messages(session_factory, task_id):
                await asyncio.sleep(0.05)
        await sleep_until(env, fired + timedelta(days=1, minutes=1))
        sent = task_messages(session_factory, task_id)
        assert [r.template for r in sent] == ["task_assigned", "task_reminder"]
        assert at_about(local(sent[0]), fired)
        assert at_about(local(sent[1]), fired + timedelta(days=1))
    finally:
        await stop(rule, task)


async def test_an_escalation_at_night_moves_the_task_at_once_and_its_message_waits(
    env, worker, settings, session_factory, sc
):
    from wendu.store.models import Task
    from wendu.workflows.io import TASK_STATE_QUERY, TaskView

    fired = await move_clock_to(env, 23)
    # Due in two days, at 23:00, when it escalates to the skip manager; no reminders.
    rule, task, task_id = await start_task(env, settings, sc, sc.task_plan(reminders=[]))
    try:
        escalated_at = fired + timedelta(days=2)
        await sleep_until(env, escalated_at + timedelta(minutes=30))
        state = await task.query(TASK_STATE_QUERY, result_type=TaskView)
        assert (state.assignee_id, state.escalation_level) == ("S1", 1)
        with session_factory() as session:
            stored = session.get(Task, task_id)
        assert (stored.assignee_id, stored.escalation_level, stored.status) == ("S1", 1, "open")
        # The new due time counts from the escalation at 23:00, not from the message.
        assert at_about(stored.due_at.astimezone(SHANGHAI), escalated_at + timedelta(days=2))
        assert [r.template for r in task_messages(session_factory, task_id)] == [
            "task_assigned"]

        morning = (escalated_at + timedelta(days=1)).replace(hour=8)
        await sleep_until(env, morning + timedelta(minutes=1))
        sent = task_messages(session_factory, task_id)
        assert [(r.template, r.recipient_id) for r in sent] == [
            ("task_assigned", "M1"), ("task_escalated", "S1")]
        assert at_about(local(sent[0]), (fired + timedelta(days=1)).replace(hour=8))
        assert at_about(local(sent[1]), morning)
    finally:
        await stop(rule, task)


async def test_a_task_completed_during_the_night_gets_no_reminder_in_the_morning(
    env, worker, settings, session_factory, sc
):
    from wendu.workflows.io import TASK_ACT_UPDATE, TaskAction, TaskView

    fired = await move_clock_to(env, 10)
    rule, task, task_id = await start_task(
        env, settings, sc, sc.task_plan(reminders=[35 * 3600]))
    await sleep_until(env, (fired + timedelta(days=1)).replace(hour=2))  # the reminder is held
    await task.execute_update(
        TASK_ACT_UPDATE, TaskAction(action="complete", actor_id="M1", comment="talked at last"),
        result_type=TaskView)
    await env.sleep(timedelta(minutes=2))  # the minute the completion could be undone in
    outcome = await task.result()  # the held reminder does not keep the task waiting
    assert outcome["status"] == "completed"

    await sleep_until(env, (fired + timedelta(days=1)).replace(hour=9))
    await rule.result()
    assert [r.template for r in task_messages(session_factory, task_id)] == ["task_assigned"]
    history = await task.fetch_history()
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name
                 for e in history.events
                 if e.HasField("activity_task_scheduled_event_attributes")]
    assert scheduled.count("wendu.notify_task") == 1  # the assignment only
