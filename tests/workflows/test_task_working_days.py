"""A task's due time and reminders count working days, on the time-skipping server.

A task set on Friday morning, due in two days with a reminder a day before, is due on Tuesday
and reminds on Monday; nothing reaches the manager over the weekend.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("policy_helpers",
                                               Path(__file__).with_name("test_policy.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
SHANGHAI, at_about, local = _helpers.SHANGHAI, _helpers.at_about, _helpers.local
sleep_until, start_task, stop = _helpers.sleep_until, _helpers.start_task, _helpers.stop
task_messages = _helpers.task_messages


@pytest.fixture
def settings(sc):
    # Monday to Friday: the same rule as the China calendar on ordinary weeks, whatever the
    # date the server's clock starts at (the calendar's holidays are tested in tests/rules).
    return sc.settings().model_copy(update={"quiet_hours": "", "work_calendar": "mon-fri"})


async def next_friday_at_ten(env):
    now = (await env.get_current_time()).astimezone(SHANGHAI)
    target = now.replace(hour=10, minute=0, second=0, microsecond=0)
    target += timedelta(days=(4 - target.weekday()) % 7)
    if target <= now:
        target += timedelta(days=7)
    await env.sleep(target - now)
    return target


async def test_a_friday_task_is_due_on_tuesday_and_reminded_on_monday(
    env, worker, settings, session_factory, sc
):
    from wendu.store.models import Task

    friday = await next_friday_at_ten(env)
    rule, task, task_id = await start_task(env, settings, sc, sc.task_plan())
    try:
        with session_factory() as session:
            due = session.get(Task, task_id).due_at.astimezone(SHANGHAI)
        assert at_about(due, friday + timedelta(days=4))  # Tuesday 10:00, not Sunday
        await sleep_until(env, friday + timedelta(days=2, hours=23))  # Sunday night
        assert [r.template for r in task_messages(session_factory, task_id)] == [
            "task_assigned"]
        await sleep_until(env, friday + timedelta(days=3, minutes=30))  # Monday 10:30
        sent = task_messages(session_factory, task_id)
        assert [r.template for r in sent] == ["task_assigned", "task_reminder"]
        assert at_about(local(sent[1]), friday + timedelta(days=3))
    finally:
        await stop(rule, task)
