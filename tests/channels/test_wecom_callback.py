"""WeCom callbacks end to end: a task reaches the manager as a WeCom card (local WeCom server),
and the manager's button click, encrypted as WeCom sends it, acknowledges the task through
the API and the task's workflow (real Temporal dev server and worker, both databases)."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.api.app import create_app
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.settings import Settings
from wendu.store.models import Task, TaskAction
from wendu.tokens import create_token
from wendu.worker import build_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_env(temporal_dev_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_dev_server_path, data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(db_url, tmp_path, wecom_server, fake_wecom) -> Settings:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("satisfaction_checkin.yaml", "_groups.yaml"):
        shutil.copy(EXAMPLES_DIR / name, rules)
    return Settings(
        environment="test", database_url=db_url, data_dir=tmp_path / "data", rules_dir=rules,
        task_queue=f"q-{uuid.uuid4().hex[:8]}",
        wecom_corp_id=fake_wecom.CORP_ID, wecom_secret=fake_wecom.SECRET,
        wecom_agent_id=fake_wecom.AGENT_ID, wecom_token=fake_wecom.TOKEN,
        wecom_aes_key=fake_wecom.AES_KEY, wecom_base_url=wecom_server.url,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def api(settings, dev_env, factory) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, temporal_client=dev_env.client)
    async with app.router.lifespan_context(app):
        with factory.begin() as session:
            token = create_token(session, f"t-{uuid.uuid4().hex[:6]}", ["events:write"])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://wendu", timeout=60,
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            yield http


def events(emp: str, manager: str, manager_userid: str) -> list[dict]:
    now = datetime.now(UTC)
    hired = [
        {"id": f"hire-{who}", "type": "employee.hired", "employee_id": who,
         "occurred_at": "2025-01-06T09:00:00+08:00",
         "data": {"name": f"Name {who}", "hired_on": "2025-01-06", **extra}}
        for who, extra in [
            (manager, {"wecom_userid": manager_userid, "preferred_channels": ["wecom"]}),
            (emp, {"manager_id": manager}),
        ]
    ]
    surveys = [{"id": f"s-{emp}-{i}", "type": "survey.response", "employee_id": emp,
                "occurred_at": (now - timedelta(days=30 - i)).isoformat(),
                "data": {"survey_id": f"pulse-{i}", "satisfaction": s}}
               for i, s in enumerate([4.5, 4.5, 4.5, 2.0])]
    return hired + surveys


async def eventually(check, what: str):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def task_of(factory, emp: str) -> Task | None:
    with factory() as s:
        return s.scalars(select(Task).where(Task.subject_employee_id == emp)).first()


def actions(factory, task_id: str) -> list[tuple[str, str]]:
    with factory() as s:
        q = select(TaskAction.action, TaskAction.actor_id).where(TaskAction.task_id == task_id)
        return [tuple(row) for row in s.execute(q)]


async def test_url_verification(api, fake_wecom):
    params = fake_wecom.url_verification("echo-4711")
    r = await api.get("/api/v1/wecom/callback", params=params)
    assert r.status_code == 200 and r.text == "echo-4711"
    r = await api.get("/api/v1/wecom/callback", params={**params, "nonce": "other"})
    assert r.status_code == 403 and "msg_signature" in r.json()["detail"]


async def test_manager_acknowledges_from_the_wecom_card(
    api, dev_env, settings, factory, wecom_server, fake_wecom
):
    emp, manager = f"E{uuid.uuid4().hex[:8]}", f"M{uuid.uuid4().hex[:8]}"
    userid = f"wx-{manager.lower()}"
    wecom_server.state.users.add(userid)
    async with build_worker(dev_env.client, settings, factory):
        r = await api.post("/api/v1/events", json={"events": events(emp, manager, userid)})
        assert r.status_code == 200, r.text
        task = await eventually(lambda: task_of(factory, emp), "the check-in task")
        [card] = await eventually(
            lambda: [m for m in wecom_server.messages if m["touser"] == userid],
            "the WeCom card")
        button = card["template_card"]["button_list"][0]
        assert card["template_card"]["main_title"]["title"] == f"请与 Name {emp} 进行一次 1:1 沟通"
        assert (button["text"], button["key"]) == ("我来处理", f"task:{task.id}:acknowledge")

        post = "/api/v1/wecom/callback"
        params, body = fake_wecom.callback_post(fake_wecom.click_event_xml(userid, button["key"]))
        forged = {**params, "msg_signature": "0" * 40}
        r = await api.post(post, params=forged, content=body, headers={"Authorization": ""})
        assert r.status_code == 403
        stranger, stranger_body = fake_wecom.callback_post(
            fake_wecom.click_event_xml("wx-someone-else", button["key"]))
        r = await api.post(post, params=stranger, content=stranger_body)
        assert r.status_code == 200 and r.text == "success"  # answered, but nothing applies
        assert task_of(factory, emp).status == "open" and actions(factory, task.id) == []

        # WeCom needs no bearer token: the signature is the authentication.
        r = await api.post(post, params=params, content=body, headers={"Authorization": ""})
        assert r.status_code == 200 and r.text == "success"
        # "I'm on it", as in the console: in progress, and still open until completed.
        taken = task_of(factory, emp)
        assert (taken.status, taken.closed_at) == ("acknowledged", None)
        assert actions(factory, task.id) == [("acknowledge", manager)]
        # The card's button is greyed out for the clicker (only after the click applied).
        [update] = wecom_server.state.card_updates
        assert update["userids"] == [userid] and update["button"] == {"replace_name": "处理中"}
