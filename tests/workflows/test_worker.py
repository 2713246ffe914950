"""run_worker end to end: the Temporal dev server, a migrated SQLite file, one rule."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from wendu.settings import Settings
from wendu.store.db import make_engine, make_session_factory, upgrade
from wendu.store.models import Notification
from wendu.temporal import connect
from wendu.worker import run_worker
from wendu.workflows import RuleWorkflow


async def test_run_worker_runs_a_rule_until_stopped(
    temporal_dev_server_path: str, tmp_path: Path, sc
):
    db_url = f"sqlite:///{tmp_path / 'wendu.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    sc.seed(factory)

    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_dev_server_path,
        dev_server_extra_args=["--log-level", "error"],
    ) as env:
        address = env.client.service_client.config.target_host
        settings = Settings(
            environment="test",
            database_url=db_url,
            temporal_address=address,
            templates_dir=sc.TEMPLATES_DIR,
            task_queue=f"worker-{uuid.uuid4().hex[:6]}",
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_worker(settings, stop))
        client = await connect(address, "default")
        result = await client.execute_workflow(
            RuleWorkflow.run,
            sc.rule_input(sc.notify_plan(wait_seconds=1)),
            id="rule/overtime-notice/E1",
            task_queue=settings.task_queue,
        )
        stop.set()
        await asyncio.wait_for(running, 30)

    assert result.steps_run == ["steps[0]", "steps[1]", "steps[2]", "steps[3]"]
    with factory() as session:
        assert sorted(session.scalars(select(Notification.recipient_id))) == ["E1", "M1"]
    engine.dispose()
