"""Events owed to waiting workflows are delivered from an outbox, even across an outage."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.store.models import WaitDelivery, utcnow
from wendu.waits import deliver_waits

from .test_outage import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


def owe(factory, workflow_id: str, event_id: str) -> None:
    with factory.begin() as s:
        s.add(WaitDelivery(workflow_id=workflow_id, event_id=event_id,
                           event={"id": event_id, "type": "training.completed"}))


def rows(factory) -> dict[tuple[str, str], WaitDelivery]:
    with factory() as s:
        return {(r.workflow_id, r.event_id): r for r in s.scalars(select(WaitDelivery))}


async def signal_names(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


async def test_owed_events_are_signalled_once_and_survive_an_outage(
    temporal_dev_server_path: str, factory, tmp_path: Path
) -> None:
    port = free_port()
    db = str(tmp_path / "temporal.db")

    async def server():
        return await start_server_with_file(temporal_dev_server_path, port, db)

    env = await server()
    # A workflow waiting for an event (no worker needed: the server keeps the signal).
    await env.client.start_workflow("RuleWorkflow", {}, id="rule/r/E1", task_queue="idle")
    owe(factory, "rule/r/E1", "ev-1")
    owe(factory, "rule/r/gone", "ev-2")
    await env.shutdown()

    down = await Client.connect(f"127.0.0.1:{port}", lazy=True,
                                data_converter=pydantic_data_converter)
    assert await deliver_waits(down, factory, cutoff=utcnow()) == 0
    owed = rows(factory)[("rule/r/E1", "ev-1")]
    assert owed.status == "pending" and owed.attempts == 1 and owed.error

    env = await server()
    try:
        assert await deliver_waits(env.client, factory, cutoff=utcnow()) == 1
        after = rows(factory)
        assert after[("rule/r/E1", "ev-1")].status == "sent"
        assert after[("rule/r/gone", "ev-2")].status == "gone"  # nobody waits any more
        # Nothing pending is left, so a further pass sends nothing twice.
        assert await deliver_waits(env.client, factory, cutoff=utcnow()) == 0
        assert await signal_names(env.client, "rule/r/E1") == ["event"]
    finally:
        await env.shutdown()


async def start_server_with_file(path: str, port: int, db: str):
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=path, port=port, data_converter=pydantic_data_converter,
        dev_server_database_filename=db,
    )
