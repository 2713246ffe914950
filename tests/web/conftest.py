"""Console tests: the real app over ASGI (or uvicorn for the browser), a real Temporal dev
server per module, both database backends, and a small company with accounts of every role."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from wendu.api.app import create_app
from wendu.api.web_accounts import create_user
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.settings import Settings
from wendu.store.models import Firing, Notification, ScoreRecord, Task, utcnow

PASSWORD = "correct horse battery"
# username -> (role, employee id)
ACCOUNTS = {
    "hr": ("hr_admin", "H"),
    "bp": ("hrbp", None),
    "m1": ("manager", "M1"),
    "m2": ("manager", "M2"),
    "boss": ("manager", "B"),
    "a1": ("employee", "A1"),
}
# employee -> manager
COMPANY = {"B": None, "H": "B", "M1": "B", "M2": "B", "A1": "M1", "A2": "M1", "C1": "M2"}


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shutil.copy(EXAMPLES_DIR / "overtime_care.yaml", rules_dir)
    return Settings(environment="test", database_url=db_url, data_dir=tmp_path / "data",
                    rules_dir=rules_dir, task_queue=f"q-{uuid.uuid4().hex[:8]}",
                    firing_retry_seconds=0.5)


def hire(emp: str, manager: str | None, locale: str = "en") -> dict[str, Any]:
    data: dict[str, Any] = {"name": f"Name {emp}", "hired_on": "2024-01-08", "locale": locale}
    if manager:
        data["manager_id"] = manager
    return {"id": f"hire-{emp}", "type": "employee.hired", "employee_id": emp,
            "occurred_at": "2024-01-08T09:00:00+08:00", "data": data}


def seed_company(factory, *, tasks: bool = True) -> None:
    """The company, its accounts, three tasks, two notifications and one piece of feedback
    (the tasks and notifications only with `tasks`: rows without a workflow behind them)."""
    events = [hire(e, m) for e, m in COMPANY.items()]
    events.append({"id": "fb-A1", "type": "feedback.submitted", "employee_id": "A1",
                   "occurred_at": "2026-11-20T10:00:00+08:00",
                   "data": {"text": "my lead shouts at me", "channel": "suggestion_box"}})
    with factory.begin() as s:
        ingest(s, events, RuleIndex([]))
    now = utcnow()
    with factory.begin() as s:
        for name, (role, emp) in ACCOUNTS.items():
            create_user(s, name, role, PASSWORD, emp)
        if not tasks:
            return
        for tid, assignee, subject, level in (("T1", "M1", "A1", 0), ("T2", "M2", "C1", 0),
                                              ("T3", "B", "A2", 1)):
            s.add(Task(id=tid, key=f"k/{tid}", workflow_id=f"task/{tid}-{uuid.uuid4().hex}",
                       parent_workflow_id=f"rule/x/{tid}", rule_id="x",
                       subject_employee_id=subject, assignee_id=assignee,
                       assignee_role="manager", title=f"Task {tid}", status="open",
                       escalation_level=level, due_at=now + timedelta(days=2)))
        # T1's "why": the firing that opened it and the score it carried.
        s.add(Firing(rule_id="x", dedupe_key="T1", rule_digest="d", workflow_id="rule/x/T1",
                     employee_id="A1", status="started",
                     context={"firing": {"matched": ["profile.overtime_hours_28d > 40"],
                                         "values": {"profile.overtime_hours_28d": 50}}}))
        s.add(ScoreRecord(workflow_id="rule/x/T1", step_id="steps[0]", employee_id="A1",
                          scorer="attrition", model_version="baseline-1", value=0.71,
                          factors=[{"name": "overtime_hours_28d", "value": 50,
                                    "contribution": 0.8, "direction": "increases"}]))
        for nid, to in ((1, "A1"), (2, "M1")):
            s.add(Notification(id=nid, key=f"n/{nid}", workflow_id="w", step_id="s",
                               recipient_id=to, channel="inapp", template="t", locale="en",
                               subject=f"Note {nid}", body="hello"))


@asynccontextmanager
async def running_app(settings: Settings, client: Client):
    app = create_app(settings, temporal_client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wendu",
                                     timeout=60) as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest_asyncio.fixture(loop_scope="session")
async def console(settings, temporal, factory) -> AsyncIterator[httpx.AsyncClient]:
    seed_company(factory)
    async with running_app(settings, temporal) as http:
        yield http


async def login_form(http: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """Post the login form as a browser does: the page first, for its CSRF token."""
    form = await http.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    return await http.post("/console/login", data={"csrf": token.group(1), **fields})


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Sign in (the client keeps the cookie); returns the session's CSRF token."""
    http.cookies.clear()
    r = await login_form(http, username=username, password=password)
    assert r.status_code == 303, r.text
    page = await http.get("/console/tasks")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)
