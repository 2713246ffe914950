"""A firing survives a Temporal outage: the API answers, the firing starts when it is back."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.store.models import Firing

from .conftest import ALL_SCOPES, hire, make_token, running_app, week

pytestmark = pytest.mark.asyncio(loop_scope="session")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_server(path: str, port: int) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=path, port=port, data_converter=pydantic_data_converter
    )


def firing(factory) -> Firing:
    with factory() as s:
        return s.scalars(select(Firing)).one()


async def test_a_firing_made_while_temporal_is_down_starts_when_it_is_back(
    temporal_dev_server_path, settings, factory, emp
):
    port = free_port()
    server = await start_server(temporal_dev_server_path, port)
    settings.temporal_address = f"127.0.0.1:{port}"
    token = make_token(factory, ALL_SCOPES)
    # The app connects by itself (no client given), as in production.
    async with running_app(settings, None, token) as api:
        await server.shutdown()  # Temporal goes away while the API keeps running

        # The producer gets its answer (the per-test timeout guards against a hang).
        r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
        assert r.status_code == 200, r.text
        [fired] = [f for e in r.json()["results"] for f in e["fired"]]
        assert fired["status"] == "queued"
        # The background starter tries, fails and records why; the row stays committed.
        deadline = time.monotonic() + 60
        while not (row := firing(factory)).error:
            assert time.monotonic() < deadline, "the starter never tried"
            await asyncio.sleep(0.1)
        assert row.status == "pending" and row.attempts >= 1 and row.next_attempt_at
        assert row.workflow_id == fired["workflow_id"]
        # Further requests are answered too while Temporal is away.
        r = await api.post("/api/v1/events", json=hire(f"{emp}-2"))
        assert r.status_code == 200, r.text

        server = await start_server(temporal_dev_server_path, port)
        try:
            deadline = time.monotonic() + 60
            while firing(factory).status != "started":
                assert time.monotonic() < deadline, f"still pending: {firing(factory).error}"
                await asyncio.sleep(0.5)
            desc = await server.client.get_workflow_handle(fired["workflow_id"]).describe()
            assert desc.workflow_type == "RuleWorkflow"
            assert desc.status == WorkflowExecutionStatus.RUNNING
            assert firing(factory).error is None
        finally:
            await server.shutdown()
