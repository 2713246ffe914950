"""The embedded Temporal dev server across a `wendu up` that was killed outright."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from wendu.devserver import DevServer, free_port_pair


@pytest.mark.timeout(120)
async def test_a_restart_waits_for_the_server_a_killed_wendu_up_left_behind(
    tmp_path: Path, temporal_dev_server_path: str
) -> None:
    first = DevServer(tmp_path, free_port_pair(None), binary=temporal_dev_server_path)
    await first.start()
    client = await Client.connect(first.address)
    await client.start_workflow("Anything", id="kept", task_queue="nobody-polls")
    # Its `wendu up` is SIGKILLed: the kernel drops the data dir's lock at once, and the
    # server gets the SIGTERM of PR_SET_PDEATHSIG, which starts a shutdown of a moment.
    assert first._lock is not None
    os.close(first._lock)
    first._lock = None
    os.kill(first.pid, signal.SIGTERM)

    # Started again at once, on the same port and file: it waits for the old server, rather
    # than failing on the port (or, on another port, running two servers on one file).
    second = DevServer(tmp_path, first.port, binary=temporal_dev_server_path)
    try:
        await second.start()
        assert first.process.poll() is not None and second.orphans() == [second.pid]
        again = await Client.connect(second.address)
        described = await again.get_workflow_handle("kept").describe()
        assert described.id == "kept"  # the file's state is the new server's
    finally:
        second.stop()
        first.stop()


@pytest.mark.timeout(120)
async def test_a_dev_server_that_dies_is_started_again_on_its_file(
    tmp_path: Path, temporal_dev_server_path: str
) -> None:
    server = DevServer(tmp_path, free_port_pair(None), binary=temporal_dev_server_path)
    await server.start()
    client = await Client.connect(server.address)
    await client.start_workflow("Anything", id="kept", task_queue="nobody-polls")
    said: list[str] = []
    keeper = asyncio.create_task(server.keep_running(said.append, every=0.2))
    try:
        dead = server.pid
        os.kill(dead, signal.SIGKILL)  # the OOM killer, say
        async with asyncio.timeout(90):
            while not any("ready again" in line for line in said):
                await asyncio.sleep(0.1)
        assert "exited (code -9)" in said[0]
        assert server.running() and server.pid != dead
        again = await Client.connect(server.address)  # the same port
        described = await again.get_workflow_handle("kept").describe()
        assert described.status == WorkflowExecutionStatus.RUNNING  # and the same file
    finally:
        keeper.cancel()
        server.stop()
