"""Snoozing over the API is the console's snooze: the task workflow holds its reminders and
escalation, the assignee's console lists it as snoozed, and the audit log names the token and
the employee it acted as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from wendu.api.web_accounts import create_user
from wendu.store.models_accounts import AuditLog, TaskSnooze
from wendu.tokens import create_token
from wendu.worker import build_worker
from wendu.workflows.io import TASK_STATE_QUERY, TaskView

from .conftest import hire, make_token, running_app
from .test_tasks_api import rules_dir, surveys, wait_for_task  # noqa: F401 - fixture

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_snooze_over_the_api_holds_the_workflow_and_is_audited(
    api, temporal, settings, factory, emp
):
    manager = f"M-{emp}"
    events = [hire(manager), hire(emp, manager_id=manager), *surveys(emp, [4.5, 4.5, 4.5, 2.0])]
    token = make_token(factory, ["tasks:act"], name=f"bot-{emp}")
    async with build_worker(temporal, settings, factory), \
            running_app(settings, temporal, token) as bot:
        assert (await api.post("/api/v1/events", json={"events": events})).status_code == 200
        task = await wait_for_task(factory, emp)
        with factory.begin() as s:  # the manager signs in to the console too
            account = create_user(s, f"m-{emp}".lower(), "manager", "correct horse battery",
                                  employee_id=manager)
            s.flush()
            account_id = account.id
        url = f"/api/v1/tasks/{task.id}/snooze"

        refused = [({"actor_id": emp, "hours": 4}, 403),  # not the assignee
                   ({"actor_id": manager}, 422),  # how long?
                   ({"actor_id": manager, "hours": 4, "until": "2030-01-01T09:00:00+08:00"}, 422),
                   ({"actor_id": manager, "until": "2020-01-01T09:00:00+08:00"}, 422),
                   ({"actor_id": manager, "hours": 15 * 24}, 422)]
        for body, code in refused:
            r = await bot.post(url, json=body)
            assert r.status_code == code, (body, r.text)
        assert (await bot.post("/api/v1/tasks/nope/snooze",
                               json={"actor_id": manager, "hours": 4})).status_code == 404

        until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
        local = until.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()  # any offset will do
        r = await bot.post(url, json={"actor_id": manager, "until": local})
        assert r.status_code == 200, r.text
        view = r.json()
        assert view["status"] == "open" and view["assignee_id"] == manager
        assert datetime.fromisoformat(view["snoozed_until"]) == until
        state = await temporal.get_workflow_handle(task.workflow_id).query(
            TASK_STATE_QUERY, result_type=TaskView)
        assert datetime.fromisoformat(state.snoozed_until) == until

        with factory() as s:  # the manager's console lists it as snoozed
            assert s.get(TaskSnooze, (task.id, account_id)).until == until

        # Taken back within the minute: neither the workflow nor the console holds it.
        r = await bot.post(f"/api/v1/tasks/{task.id}/undo", json={"actor_id": manager})
        assert r.status_code == 200 and r.json()["snoozed_until"] is None, r.text
        with factory() as s:
            assert s.get(TaskSnooze, (task.id, account_id)) is None
        r = await bot.post(url, json={"actor_id": manager, "until": local})
        assert r.status_code == 200, r.text

        # Taken on, a task has no reminders left to put off.
        r = await bot.post(f"/api/v1/tasks/{task.id}/actions",
                           json={"action": "acknowledge", "actor_id": manager})
        assert r.status_code == 200, r.text
        r = await bot.post(url, json={"actor_id": manager, "hours": 4})
        assert r.status_code == 409 and "in progress" in r.json()["detail"]

    with factory() as s:
        row = s.get(TaskSnooze, (task.id, account_id))
        audits = s.scalars(select(AuditLog).where(AuditLog.target_id == task.id)).all()
    assert row is not None and row.until == until
    assert [(a.actor, a.action) for a in audits] == [(f"token:bot-{emp}", "task.snooze")] * 2
    assert audits[0].before == {"status": "open", "snoozed_until": None}
    assert audits[0].after == {"status": "open", "snoozed_until": until.isoformat(),
                               "reminders_postponed": True, "actor_id": manager}


async def test_a_token_bound_to_another_person_cannot_snooze_for_the_assignee(
    api, settings, temporal, factory, emp
):
    assert (await api.post("/api/v1/events", json=hire(emp))).status_code == 200
    with factory.begin() as s:
        token = create_token(s, f"phone-{emp}", ["tasks:act"], actor_id=emp)
    async with running_app(settings, temporal, token) as http:
        r = await http.post("/api/v1/tasks/T-1/snooze", json={"actor_id": "M1", "hours": 4})
    assert r.status_code == 403 and f"acts only as '{emp}'" in r.json()["detail"]
