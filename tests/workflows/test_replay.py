"""The committed histories replay with the current workflow code.

A change that would break a workflow already running in production (a reordered activity, a
new timer on an old path) fails here. Record new histories with `make_histories.py` only for a
change meant to be incompatible, and keep the old files while such workflows may still run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from wendu.workflows import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_committed():
    names = {path.stem.split("_")[0] for path in HISTORIES}
    assert {"rule", "task", "scan"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_history_replays(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(data["workflow_id"], data["history"])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
