"""Tasks: listed from the store; actions go to the TaskWorkflow's `act` update (real worker)."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Task, TaskAction
from wendu.worker import build_worker

from .conftest import hire

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def rules_dir(rules_dir):
    shutil.copy(EXAMPLES_DIR / "satisfaction_checkin.yaml", rules_dir)
    shutil.copy(EXAMPLES_DIR / "_groups.yaml", rules_dir)
    return rules_dir


def surveys(emp: str, scores: list[float]) -> list[dict]:
    now = datetime.now(UTC)
    return [{"id": f"s-{emp}-{i}", "type": "survey.response", "employee_id": emp,
             "occurred_at": (now - timedelta(days=30 - i)).isoformat(),
             "data": {"survey_id": f"pulse-{i}", "satisfaction": s}} for i, s in enumerate(scores)]


async def wait_for_task(factory, emp: str) -> Task:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with factory() as s:
            task = s.scalars(select(Task).where(Task.subject_employee_id == emp)).first()
        if task is not None:
            return task
        await asyncio.sleep(0.3)
    raise AssertionError("the check-in task was never created")


def actions(factory, task_id: str) -> list[str]:
    with factory() as s:
        return list(s.scalars(select(TaskAction.action).where(TaskAction.task_id == task_id)))


async def test_a_manager_acts_on_a_task_and_refusals_change_nothing(
    api, temporal, settings, factory, emp
):
    manager = f"M-{emp}"
    events = [hire(manager), hire(emp, manager_id=manager), *surveys(emp, [4.5, 4.5, 4.5, 2.0])]
    async with build_worker(temporal, settings, factory):
        r = await api.post("/api/v1/events", json={"events": events})
        assert [f["rule_id"] for e in r.json()["results"] for f in e["fired"]] == [
            "satisfaction-checkin"]
        task = await wait_for_task(factory, emp)

        mine = {"assignee": manager, "status": "open"}
        listed = (await api.get("/api/v1/tasks", params=mine)).json()
        assert [t["id"] for t in listed] == [task.id]
        assert listed[0]["title"] == f"1:1 check-in with Name {emp}"
        done = {"assignee": manager, "status": "completed"}
        assert (await api.get("/api/v1/tasks", params=done)).json() == []
        assert (await api.get(f"/api/v1/tasks/{task.id}")).json()["status"] == "open"

        url = f"/api/v1/tasks/{task.id}/actions"
        r = await api.post(url, json={"action": "complete", "actor_id": emp, "comment": "done"})
        assert r.status_code == 403 and "not assigned" in r.json()["detail"]
        r = await api.post(url, json={"action": "complete", "actor_id": manager})
        assert r.status_code == 422 and "comment" in r.json()["detail"]
        r = await api.post(url, json={"action": "explode", "actor_id": manager})
        assert r.status_code == 422
        assert (await api.get(f"/api/v1/tasks/{task.id}")).json()["status"] == "open"
        assert actions(factory, task.id) == []

        r = await api.post(url, json={"action": "complete", "actor_id": manager,
                                      "comment": "Talked; workload rebalanced."})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "completed"
        stored = (await api.get(f"/api/v1/tasks/{task.id}")).json()
        assert stored["status"] == "completed"
        assert stored["comment"] == "Talked; workload rebalanced."

        r = await api.post(url, json={"action": "dismiss", "actor_id": manager, "comment": "x"})
        assert r.status_code == 409
        assert actions(factory, task.id) == ["complete"]


async def test_an_unknown_task_is_404(api):
    assert (await api.get("/api/v1/tasks/nope")).status_code == 404
    r = await api.post("/api/v1/tasks/nope/actions",
                       json={"action": "acknowledge", "actor_id": "M1"})
    assert r.status_code == 404


async def test_acknowledged_is_in_progress_undo_and_delegate_over_the_api(
    api, temporal, settings, factory, emp
):
    manager, lead = f"M-{emp}", f"L-{emp}"
    events = [hire(manager), hire(lead, manager_id=manager), hire(emp, manager_id=manager),
              *surveys(emp, [4.5, 4.5, 4.5, 2.0])]
    async with build_worker(temporal, settings, factory):
        assert (await api.post("/api/v1/events", json={"events": events})).status_code == 200
        task = await wait_for_task(factory, emp)
        url = f"/api/v1/tasks/{task.id}"

        r = await api.post(f"{url}/actions", json={"action": "acknowledge", "actor_id": manager})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "acknowledged" and r.json()["undo_by"] == manager
        in_progress = {"assignee": manager, "status": "acknowledged"}
        assert [t["id"] for t in (await api.get("/api/v1/tasks", params=in_progress)).json()
                ] == [task.id]
        assert (await api.get(url)).json()["closed_at"] is None

        r = await api.post(f"{url}/undo", json={"actor_id": emp})
        assert r.status_code == 403 and f"only {manager} undoes" in r.json()["detail"]
        r = await api.post(f"{url}/undo", json={"actor_id": manager})
        assert r.status_code == 200 and r.json()["status"] == "open"

        r = await api.post(f"{url}/actions", json={"action": "delegate", "actor_id": manager,
                                                   "comment": "you know them", "to_id": "nobody"})
        assert r.status_code == 422 and "to_id: 'nobody'" in r.json()["detail"]
        r = await api.post(f"{url}/actions", json={"action": "delegate", "actor_id": manager,
                                                   "comment": "you know them", "to_id": lead})
        assert r.status_code == 200, r.text
        assert (await api.get(url)).json()["assignee_id"] == lead
        assert actions(factory, task.id) == ["acknowledge", "undo", "delegate"]
