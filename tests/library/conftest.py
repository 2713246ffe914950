"""The shipped rule library driven through the real engine.

Per test: a time-skipping Temporal server, a fresh SQLite store holding the library's rules,
a worker with every real activity and scorer, and a small company: the world `wendu rules
test` runs YAML rule tests in (`wendu.ruletest.world`). Events go in through `wendu.ingest`
and the firing and wait-delivery paths the API uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from wendu.rules.ruleset import load_ruleset
from wendu.ruletest.world import World as RuleWorld
from wendu.ruletest.world import migrated_sqlite, open_world, time_skipping_env

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


class World(RuleWorld):
    # Event builders, here because test modules import nothing from conftest.
    event = staticmethod(event)
    hire = staticmethod(hire)


# One time-skipping server per test (it starts in about 0.15 s): rules left running by one
# test (30-day timers, abandoned tasks) would otherwise hold the next test's clock, and the
# same rule and dedupe key could not fire twice.
@pytest_asyncio.fixture(loop_scope="session")
async def env(temporal_test_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env(temporal_test_server_path) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="session")
async def world(env, tmp_path) -> AsyncIterator[World]:
    loaded = load_ruleset([LIBRARY])
    assert loaded.errors == [], loaded.errors
    db = migrated_sqlite(tmp_path / "wendu.db")
    async with open_world(env, loaded, db, tmp_path, world_class=World) as opened:
        yield opened
