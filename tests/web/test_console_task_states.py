"""My tasks in the console: open, in progress, snoozed and done lists; undo for a minute;
delegate (the assignee) and reassign (HR only), each audited, against a real TaskWorkflow."""

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


async def _start_task(temporal, settings, sc, subject: str = "A1") -> str:
    plan = sc.task_plan()
    task_id = f"T-{uuid.uuid4().hex[:12]}"
    inp = TaskInput(task_key=f"rule/overtime-checkin/{subject}/{task_id}", task_id=task_id,
                    parent_workflow_id=f"rule/overtime-checkin/{subject}",
                    rule_id=plan.rule_id, step=plan.steps[1], title=f"Check in with {subject}",
                    subject_employee_id=subject, context=sc.rule_input(plan).context)
    handle = await temporal.start_workflow(TaskWorkflow.run, inp, id=f"task/{task_id}",
                                           task_queue=settings.task_queue)
    async with asyncio.timeout(30):
        while not await handle.query(TASK_STATE_QUERY, result_type=TaskView | None):
            await asyncio.sleep(0.1)
    return task_id


def _in(page: str, task_id: str) -> bool:
    return f'data-task-id="{task_id}"' in page


async def test_a_task_moves_between_the_lists_and_the_last_action_can_be_undone(
    console, temporal, settings, factory, sc
):
    async with build_worker(temporal, settings, factory):
        task_id = await _start_task(temporal, settings, sc)
        csrf = await login(console, "m1")
        post = {"headers": {"X-CSRF-Token": csrf}}
        url = f"/console/api/tasks/{task_id}/actions"

        async def lists() -> dict[str, bool]:
            return {name: _in((await console.get(f"/console/tasks?list={name}")).text, task_id)
                    for name in ("open", "progress", "snoozed", "done")}

        assert await lists() == {"open": True, "progress": False, "snoozed": False,
                                 "done": False}
        r = await console.post(url, json={"action": "acknowledge"}, **post)
        assert r.status_code == 200 and r.json()["status"] == "acknowledged"
        assert (await lists())["progress"]
        page = (await console.get("/console/tasks?list=progress")).text
        assert 'id="undo"' in page and "You took on" in page

        r = await console.post(url, json={"action": "undo"}, **post)
        assert r.status_code == 200 and r.json()["status"] == "open"
        assert (await lists())["open"]
        assert 'id="undo"' not in (await console.get("/console/tasks")).text
        r = await console.post(url, json={"action": "undo"}, **post)
        assert r.status_code == 409 and "nothing to undo" in r.json()["detail"]

        await console.post(url, json={"action": "acknowledge"}, **post)
        r = await console.post(url, json={"action": "complete", "comment": "talked"}, **post)
        assert r.status_code == 200 and r.json()["status"] == "completed"
        done = (await console.get("/console/tasks?list=done")).text
        assert _in(done, task_id) and "Completed: talked" in done and "You completed" in done
        assert (await lists())["done"]

        # The other manager's task: m1 may not reassign (HR does); HR hands it over.
        other = await _start_task(temporal, settings, sc, subject="C1")
        r = await console.post(f"/console/api/tasks/{other}/actions",
                               json={"action": "reassign", "to_id": "M1", "comment": "x"},
                               **post)
        assert r.status_code in (403, 404)
        hr = await login(console, "hr")
        r = await console.post(f"/console/api/tasks/{other}/actions",
                               headers={"X-CSRF-Token": hr},
                               json={"action": "reassign", "to_id": "M1",
                                     "comment": "M2 is on leave"})
        assert r.status_code == 200, r.text
        assert r.json()["assignee_id"] == "M1"

    with factory() as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.target_id.in_([task_id, other]))
                           .order_by(AuditLog.id)).all()
        assert s.get(Task, other).assignee_id == "M1"
    assert [(a.actor, a.action) for a in audits] == [
        ("m1", "task.acknowledge"), ("m1", "task.undo"), ("m1", "task.acknowledge"),
        ("m1", "task.complete"), ("hr", "task.reassign")]
    assert audits[-1].before == {"status": "open", "assignee_id": "M2"}
    assert audits[-1].after["assignee_id"] == "M1"
    assert audits[-1].after["comment"] == "M2 is on leave"
