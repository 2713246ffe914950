"""API tests: the real app (lifespan included) over ASGI, a real Temporal dev server per module,
and the database on both backends; no worker unless a test starts one."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from temporalio.client import Client

from wendu.api.app import create_app
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.settings import Settings
from wendu.store.models import Firing
from wendu.tokens import create_token

SH = ZoneInfo("Asia/Shanghai")
ALL_SCOPES = ["events:write", "tasks:act", "notifications:read", "rules:admin"]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(EXAMPLES_DIR / "overtime_care.yaml", folder)
    return folder


@pytest.fixture
def settings(db_url: str, rules_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        data_dir=tmp_path / "data",
        rules_dir=rules_dir,
        task_queue=f"q-{uuid.uuid4().hex[:8]}",  # no worker polls it unless a test adds one
        firing_retry_seconds=0.5,
    )


def make_token(factory, scopes: list[str], name: str | None = None) -> str:
    with factory.begin() as session:
        return create_token(session, name or f"t-{uuid.uuid4().hex[:6]}", scopes)


@asynccontextmanager
async def running_app(settings: Settings, client: Client | None, token: str | None = None):
    """The app with its lifespan running, and an HTTP client for it."""
    app = create_app(settings, temporal_client=client)
    async with app.router.lifespan_context(app):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://wendu", headers=headers, timeout=60
        ) as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest_asyncio.fixture(loop_scope="session")
async def api(settings: Settings, temporal: Client, factory) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings, temporal, make_token(factory, ALL_SCOPES)) as http:
        yield http


async def wait_started(factory, workflow_id: str, timeout: float = 60) -> Firing:
    """The firing of `workflow_id` once the background starter has marked it started."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as s:
            row = s.scalars(select(Firing).where(Firing.workflow_id == workflow_id)).one()
        if row.status != "pending":
            return row
        assert time.monotonic() < deadline, f"{workflow_id} still pending: {row.error}"
        await asyncio.sleep(0.1)


@pytest.fixture
def emp() -> str:
    """An employee id unique to the test: workflow ids outlive a test on the shared server."""
    return f"E{uuid.uuid4().hex[:8]}"


def hire(emp: str, **data: Any) -> dict[str, Any]:
    return {"id": f"hire-{emp}", "type": "employee.hired", "employee_id": emp,
            "occurred_at": "2025-01-06T09:00:00+08:00",
            "data": {"name": f"Name {emp}", "hired_on": "2025-01-06", **data}}


def attendance(emp: str, d: date, overtime: float = 4.0) -> dict[str, Any]:
    out = datetime(d.year, d.month, d.day, 22, 30, tzinfo=SH)
    return {"id": f"att-{emp}-{d}", "type": "attendance.day_closed", "employee_id": emp,
            "occurred_at": out.isoformat(),
            "data": {"day": d.isoformat(), "clock_in": out.replace(hour=9).isoformat(),
                     "clock_out": out.isoformat(), "overtime_hours": overtime}}


def week(emp: str, start: date = date(2026, 1, 5), days: int = 6) -> list[dict[str, Any]]:
    return [attendance(emp, start + timedelta(days=i)) for i in range(days)]
