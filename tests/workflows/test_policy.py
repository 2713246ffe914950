"""The notification policy on the time-skipping server: quiet hours, the daily cap, urgency.

The clock is moved to the hour a test is about (23:00 in Shanghai) before the rule fires; the
store and the activities are the real ones.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
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
                    [held] = await timer_started(task)
                    break
                except Exception:  # the child has not started yet
                    await asyncio.sleep(0.05)
        assert 9 * 3600 - 60 < held <= 9 * 3600
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
        await rule.terminate()


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
