"""The worker loads its scorers at start, in the background, so a first `score` step finds the
text models ready; a scorer that cannot load is reported and does not stop the others."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from wendu.decide import warm_up_scorers
from wendu.scorers.registry import ScorerRegistry
from wendu.settings import Settings
from wendu.store.db import make_engine, upgrade
from wendu.worker import run_worker

TEXT_SCORERS = ("sentiment", "topics", "intent")


class _Broken:
    name = "broken"
    model_version = property(lambda self: (_ for _ in ()).throw(OSError("artifact unreadable")))

    def score(self, context):
        raise AssertionError("never scored")

    def label(self, value: float) -> str:
        return ""


def ready_line(caplog: pytest.LogCaptureFixture) -> str:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("scorers ready")]
    return lines[-1] if lines else ""


def test_warm_up_loads_every_scorer_and_reports_one_that_fails(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="wendu.decide")
    registry = ScorerRegistry.default(tmp_path)
    registry.register(_Broken())
    thread = warm_up_scorers(registry)
    thread.join(timeout=150)
    assert not thread.is_alive()

    line = ready_line(caplog)
    for name in TEXT_SCORERS:
        # No artifact in this data dir: each was trained in-process, before any score call.
        assert f"{name} builtin-" in line
    assert "broken" not in line
    assert any(r.levelno == logging.WARNING and "scorer broken" in r.getMessage()
               for r in caplog.records)
    result = registry.score("sentiment", {"event": {"text": "加班太多，很累"}})
    assert result["model_version"].startswith("builtin-")


async def test_run_worker_warms_up_its_scorers_at_start(
    temporal_dev_server_path: str, tmp_path: Path, caplog
):
    caplog.set_level(logging.INFO, logger="wendu.decide")
    db_url = f"sqlite:///{tmp_path / 'wendu.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_dev_server_path,
        dev_server_extra_args=["--log-level", "error"],
    ) as env:
        settings = Settings(
            environment="test", database_url=db_url, data_dir=tmp_path,
            temporal_address=env.client.service_client.config.target_host,
            task_queue=f"warm-{uuid.uuid4().hex[:6]}",
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_worker(settings, stop))
        for _ in range(600):  # no score step runs: only the start-up warm-up can log this
            if ready_line(caplog) or running.done():
                break
            await asyncio.sleep(0.25)
        stop.set()
        await asyncio.wait_for(running, 30)
    line = ready_line(caplog)
    assert all(f"{name} builtin-" in line for name in TEXT_SCORERS), line
