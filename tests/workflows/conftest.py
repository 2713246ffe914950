"""One time-skipping Temporal server per module; a fresh SQLite store and worker per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.store.db import make_session_factory
from wendu.worker import build_worker


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def env(temporal_test_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=temporal_test_server_path,
    ) as started:
        yield started


@pytest.fixture
def session_factory(sqlite_engine: Engine, sc):
    factory = make_session_factory(sqlite_engine)
    sc.seed(factory)
    return factory


@pytest.fixture
def settings(sc):
    return sc.settings()


@pytest_asyncio.fixture(loop_scope="session")
async def worker(env: WorkflowEnvironment, settings, session_factory):
    async with build_worker(env.client, settings, session_factory) as running:
        yield running
