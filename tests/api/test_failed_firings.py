"""A firing whose workflow did not run is `failed` with its reason, and HR can list it:
a workflow that fails (a value too large at run time), one an operator terminates, and a start
Temporal can never accept. Real app, real Temporal dev server, real worker, both databases."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.service import RPCError, RPCStatusCode

from wendu.firing import GIVE_UP_AFTER, start_firings
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Firing
from wendu.worker import build_worker

from .conftest import hire, wait_started, week

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAILING = (EXAMPLES_DIR / "overtime_care.yaml").read_text().replace(
    "id: overtime-care", "id: overtime-huge"
).replace(
    "steps:\n",
    "steps:\n  - set: {v: \"'a' * ((profile.overtime_hours_7d | int) * 100000000)\"}\n",
)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "overtime_huge.yaml").write_text(FAILING, encoding="utf-8")
    return folder


async def until_failed(api, factory, workflow_id: str, timeout: float = 60) -> Firing:
    """Reconciler passes until the firing is marked (visibility lags a close a little)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await api.app.state.reconciler.run_once()
        with factory() as s:
            row = s.scalars(select(Firing).where(Firing.workflow_id == workflow_id)).one()
        if row.status == "failed":
            return row
        await asyncio.sleep(0.3)
    raise AssertionError(f"{workflow_id} still {row.status}")


async def test_a_failed_workflow_marks_its_firing_failed_and_hr_lists_it(
    api, temporal, settings, factory, emp
):
    async with build_worker(temporal, settings, factory):
        r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
        assert r.status_code == 200, r.text
        [fired] = [f for e in r.json()["results"] for f in e["fired"]]
        wid = fired["workflow_id"]
        await wait_started(factory, wid)
        with pytest.raises(Exception):  # noqa: B017 - the workflow's own failure
            await temporal.get_workflow_handle(wid).result()
        row = await until_failed(api, factory, wid)
    assert row.error.startswith("the rule's workflow failed: ")
    assert "'*' would be too large" in row.error
    assert "overtime_huge.yaml:" in row.error  # the step it failed at

    listed = (await api.get("/api/v1/firings", params={"status": "failed"})).json()
    assert [(f["workflow_id"], f["status"]) for f in listed] == [(wid, "failed")]
    assert listed[0]["error"] == row.error and listed[0]["outcome"] == "failed"
    assert (await api.get("/api/v1/firings", params={"status": "started"})).json() == []
    assert (await api.get("/api/v1/firings", params={"status": "lost"})).status_code == 422


async def test_a_terminated_workflow_marks_its_firing_failed_with_the_reason(
    api, temporal, factory, emp
):
    # No worker: the workflow waits for one until an operator terminates it.
    r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
    [fired] = [f for e in r.json()["results"] for f in e["fired"]]
    wid = fired["workflow_id"]
    await wait_started(factory, wid)
    await temporal.get_workflow_handle(wid).terminate(reason="stopped by the on-call engineer")
    row = await until_failed(api, factory, wid)
    assert row.error == "the rule's workflow was terminated: stopped by the on-call engineer"
    # Another pass leaves it as it is.
    await api.app.state.reconciler.run_once()
    [again] = (await api.get("/api/v1/firings", params={"status": "failed"})).json()
    assert (again["workflow_id"], again["error"]) == (wid, row.error)


class Refusing:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def start_workflow(self, *args, **kwargs):
        raise self.exc


async def test_a_start_that_can_never_succeed_is_a_dead_letter_not_retried_forever(
    api, factory, emp
):
    starter = api.app.state.starter
    await starter.stop(grace=0)
    await api.app.state.reconciler.stop()
    r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
    [fired] = [f for e in r.json()["results"] for f in e["fired"]]
    with factory() as s:
        fid = s.scalars(select(Firing.id).where(Firing.workflow_id == fired["workflow_id"])).one()

    too_big = RPCError("grpc: received message larger than max (10485760 vs. 4194304)",
                       RPCStatusCode.RESOURCE_EXHAUSTED, b"")
    report = await start_firings(Refusing(too_big), factory, [fid], "q", retry_seconds=0)
    assert report.failed == [fid]
    [listed] = (await api.get("/api/v1/firings", params={"status": "failed"})).json()
    assert listed["attempts"] == 1 and "larger than max" in listed["error"]

    # An outage is retried, but not forever.
    with factory.begin() as s:
        row = s.get(Firing, fid)
        row.status, row.attempts = "pending", GIVE_UP_AFTER - 2
    outage = RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
    assert (await start_firings(Refusing(outage), factory, [fid], "q", retry_seconds=0)).pending
    assert (await start_firings(Refusing(outage), factory, [fid], "q", retry_seconds=0)).failed
    [listed] = (await api.get("/api/v1/firings", params={"status": "failed"})).json()
    assert listed["attempts"] == GIVE_UP_AFTER and "UNAVAILABLE" in listed["error"]
