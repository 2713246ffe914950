"""The shipped rule library driven through the real engine.

Per test: a time-skipping Temporal server, a fresh SQLite store holding the library's rules,
a worker with every real activity and scorer, and a small company. Events go
in through `wendu.ingest` and the firing and wait-delivery paths the API uses.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.firing import start_firings
from wendu.ingest import firing_ids, ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import load_ruleset
from wendu.rulestore import sync_rules
from wendu.settings import Settings
from wendu.store.db import make_session_factory
from wendu.store.models import Notification, Task, Wait
from wendu.waits import deliver_waits
from wendu.worker import build_worker

LIBRARY = Path(__file__).resolve().parents[2] / "rules" / "library"
TZ = "+08:00"

# A small company: a manager, an HR business partner, an HR care-team member and two reports.
PEOPLE: dict[str, dict[str, Any]] = {
    "M1": {"name": "李娜", "hired_on": "2017-06-12", "locale": "zh-CN"},
    "H1": {"name": "刘洋", "hired_on": "2019-04-15", "locale": "zh-CN"},
    "C1": {"name": "Sarah Lin", "hired_on": "2020-01-06", "locale": "en", "groups": ["hr_care"]},
    "E1": {"name": "张伟", "hired_on": "2021-07-05", "manager_id": "M1", "hrbp_id": "H1",
           "hometown_city": "杭州", "title": "后端工程师 Backend Engineer", "department": "研发部"},
    "E2": {"name": "David Wu", "hired_on": "2026-10-01", "manager_id": "M1", "hrbp_id": "H1",
           "hometown_city": "上海", "title": "Data Scientist", "locale": "en"},
}


def event(eid: str, etype: str, emp: str, at: str, **data: Any) -> dict[str, Any]:
    return {"id": eid, "type": etype, "employee_id": emp, "occurred_at": f"{at}{TZ}",
            "data": data}


def hire(emp: str, at: str = "2026-11-02T09:00:00", **extra: Any) -> dict[str, Any]:
    data = {"timezone": "Asia/Shanghai", "locale": "zh-CN", "hired_on": "2022-03-01",
            **PEOPLE.get(emp, {}), **extra}
    return event(f"hire-{emp}", "employee.hired", emp, at, **data)


def _policy_off() -> dict[str, Any]:
    # Quiet hours and the daily cap have their own tests; here a message is due when sent,
    # whatever the wall clock the time-skipping server started from.
    fields = Settings.model_fields
    return {k: v for k, v in (("quiet_hours", ""), ("daily_cap", 0)) if k in fields}


@dataclass
class World:
    env: WorkflowEnvironment
    factory: Any
    index: RuleIndex
    settings: Settings
    plans: dict[str, Any]
    # Event builders, here because test modules import nothing from conftest.
    event = staticmethod(event)
    hire = staticmethod(hire)

    async def post(self, *events: dict[str, Any]) -> list[Any]:
        with self.factory.begin() as session:
            outcomes = ingest(session, list(events), self.index)
        await start_firings(self.env.client, self.factory, firing_ids(outcomes),
                            self.settings.task_queue)
        owed = [(wid, o.id) for o in outcomes for wid in o.waiting]
        if owed:
            await deliver_waits(self.env.client, self.factory, keys=owed)
        return outcomes

    async def finished(self, workflow_id: str, step: timedelta = timedelta(hours=12)) -> Any:
        """The rule's result, skipping workflow time `step` at a time until it has one."""
        handle = self.env.client.get_workflow_handle(workflow_id)
        for _ in range(400):
            described = await handle.describe()
            if described.status != WorkflowExecutionStatus.RUNNING:
                return await handle.result()
            await self.env.sleep(step)
        raise AssertionError(f"{workflow_id} did not finish")

    def notes(self, recipient: str | None = None, template: str | None = None) -> list[Any]:
        q = select(Notification).order_by(Notification.id)
        if recipient:
            q = q.where(Notification.recipient_id == recipient)
        if template:
            q = q.where(Notification.template == template)
        with self.factory() as session:
            return list(session.scalars(q))

    def waiting(self, workflow_id: str) -> list[Any]:
        with self.factory() as session:
            return list(session.scalars(select(Wait).where(Wait.workflow_id == workflow_id)))

    def tasks(self, assignee: str | None = None) -> list[Task]:
        q = select(Task).order_by(Task.created_at, Task.id)
        if assignee:
            q = q.where(Task.assignee_id == assignee)
        with self.factory() as session:
            return list(session.scalars(q))

    async def until(self, check: Any, what: str, skip: float = 0) -> Any:
        """Polls `check()` until truthy; `skip` seconds of workflow time pass between polls."""
        for _ in range(200):
            found = check()
            if found:
                return found
            if skip:
                await self.env.sleep(skip)
            else:
                await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


# One time-skipping server per test (it starts in about 0.15 s): rules left running by one
# test (30-day timers, abandoned tasks) would otherwise hold the next test's clock, and the
# same rule and dedupe key could not fire twice.
@pytest_asyncio.fixture(loop_scope="session")
async def env(temporal_test_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server_path,
    ) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="session")
async def world(env, sqlite_engine, tmp_path) -> AsyncIterator[World]:
    loaded = load_ruleset([LIBRARY])
    assert loaded.errors == [], loaded.errors
    factory = make_session_factory(sqlite_engine)
    with factory.begin() as session:
        sync_rules(session, loaded.plans, loaded.sources, loaded.files)
    settings = Settings(environment="test", task_queue=f"lib-{uuid.uuid4().hex[:8]}",
                        data_dir=tmp_path, **_policy_off())
    async with build_worker(env.client, settings, factory):
        yield World(env, factory, RuleIndex(loaded.plans), settings,
                    {p.rule_id: p for p in loaded.plans})
