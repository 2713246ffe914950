"""One time-skipping Temporal server per module; a fresh SQLite store and worker per test."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.store.db import make_session_factory
from wendu.worker import build_worker


def _load_scenarios():
    name = "wendu_test_scenarios"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "scenarios.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


scenarios = _load_scenarios()


@pytest.fixture(scope="session")
def sc():
    return scenarios


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def env(temporal_test_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server_path,
    ) as started:
        yield started


@pytest.fixture
def session_factory(sqlite_engine: Engine):
    factory = make_session_factory(sqlite_engine)
    scenarios.seed(factory)
    return factory


@pytest.fixture
def settings():
    return scenarios.settings()


@pytest_asyncio.fixture(loop_scope="session")
async def worker(env: WorkflowEnvironment, settings, session_factory):
    async with build_worker(env.client, settings, session_factory) as running:
        yield running
