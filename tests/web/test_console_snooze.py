"""Snoozing from the console reaches the task's workflow: its reminders and escalation wait.

(How long they wait is tested on the time-skipping server in tests/workflows/test_task_snooze.py;
here the console's snooze is a real update to a real running TaskWorkflow, and audited.)
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from wendu.store.models import Task
from wendu.store.models_accounts import AuditLog
from wendu.worker import build_worker
from wendu.workflows import TaskWorkflow
from wendu.workflows.io import TASK_STATE_QUERY, TaskInput, TaskView

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_console_snooze_holds_the_workflow_and_is_audited(
    console, temporal, settings, factory, sc
):
    plan = sc.task_plan()
    task_id = f"T-{uuid.uuid4().hex[:12]}"
    inp = TaskInput(task_key=f"rule/overtime-checkin/A1/{task_id}", task_id=task_id,
                    parent_workflow_id="rule/overtime-checkin/A1", rule_id=plan.rule_id,
                    step=plan.steps[1], title="Check in with Name A1", subject_employee_id="A1",
                    context=sc.rule_input(plan).context)
    async with build_worker(temporal, settings, factory):
        handle = await temporal.start_workflow(TaskWorkflow.run, inp, id=f"task/{task_id}",
                                               task_queue=settings.task_queue)
        async with asyncio.timeout(30):
            while not await handle.query(TASK_STATE_QUERY, result_type=TaskView | None):
                await asyncio.sleep(0.1)
        with factory() as s:
            assert s.get(Task, task_id).assignee_id == "M1"

        csrf = await login(console, "m1")
        url = f"/console/api/tasks/{task_id}/actions"
        r = await console.post(url, headers={"X-CSRF-Token": csrf},
                               json={"action": "snooze", "hours": 4})
        assert r.status_code == 200, r.text
        snoozed = r.json()
        assert snoozed["reminders_postponed"] is True and snoozed["status"] == "open"
        state = await handle.query(TASK_STATE_QUERY, result_type=TaskView)
        assert state.snoozed_until == snoozed["snoozed_until"]
        assert f'data-task-id="{task_id}"' not in (await console.get("/console/tasks")).text

        # Snoozing leaves the task open and the manager's: they may still take it on, which
        # puts it in progress (and a task in progress has no reminders left to snooze).
        r = await console.post(url, headers={"X-CSRF-Token": csrf},
                               json={"action": "acknowledge"})
        assert r.status_code == 200, r.text
        state = await handle.query(TASK_STATE_QUERY, result_type=TaskView)
        assert state.status == "acknowledged"
        r = await console.post(url, headers={"X-CSRF-Token": csrf},
                               json={"action": "snooze", "hours": 4})
        assert r.status_code == 409

    with factory() as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.target_id == task_id)
                           .order_by(AuditLog.id)).all()
    assert [(a.actor, a.action) for a in audits] == [("m1", "task.snooze"),
                                                    ("m1", "task.acknowledge")]
    assert audits[0].after["reminders_postponed"] is True
    assert audits[0].after["snoozed_until"] == snoozed["snoozed_until"]
