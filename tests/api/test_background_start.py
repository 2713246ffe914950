"""The API answers at the commit; its background starter and the reconciler start the workflows.

Real app (lifespan included), real Temporal dev server, both database backends; no worker, so
started workflows stay running and can be described.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from wendu.firing import FAIL_AFTER, Reconciler, firing_row, insert_firings, start_firings
from wendu.rules.ruleset import EXAMPLES_DIR, load_ruleset
from wendu.store.models import Firing, utcnow

from .conftest import ALL_SCOPES, hire, make_token, running_app, wait_started, week

pytestmark = pytest.mark.asyncio(loop_scope="session")


def firings(factory) -> list[Firing]:
    with factory() as s:
        return list(s.scalars(select(Firing).order_by(Firing.id)))


async def run_ids(temporal, workflow_id: str) -> list[str]:
    """Every run Temporal has of this workflow id (visibility lags, so poll until seen)."""
    query = f'WorkflowId = "{workflow_id}"'
    for _ in range(100):
        runs = [wf.run_id async for wf in temporal.list_workflows(query)]
        if runs:
            return runs
        await asyncio.sleep(0.1)
    return []


async def test_the_response_lists_each_firing_as_queued(api, factory, emp):
    r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
    assert r.status_code == 200, r.text
    [fired] = [f for e in r.json()["results"] for f in e["fired"]]
    assert fired["status"] == "queued"
    assert (await wait_started(factory, fired["workflow_id"])).status == "started"

    schema = (await api.get("/openapi.json")).json()["components"]["schemas"]
    queued = schema["QueuedOut"]["properties"]["status"]
    assert queued["enum"] == ["queued"] if "enum" in queued else queued["const"] == "queued"
    assert "after the response" in queued["description"]
    assert "status" not in schema["FiredOut"]["properties"]  # already_fired: nothing queued


async def test_a_duplicate_post_before_the_start_starts_nothing_twice(api, temporal, factory, emp):
    events = [hire(emp), *week(emp)]
    first, again = await asyncio.gather(
        api.post("/api/v1/events", json={"events": events}),
        api.post("/api/v1/events", json={"events": events}),
    )
    fired = [f for r in (first, again) for e in r.json()["results"] for f in e["fired"]]
    assert len(fired) == 1  # whichever batch committed first fired; the other is duplicates
    wid = fired[0]["workflow_id"]
    row = await wait_started(factory, wid)
    assert (row.status, row.attempts) == ("started", 1)

    # A reconciler pass afterwards (and a third post) leaves the one run as it is.
    await api.app.state.reconciler.run_once()
    await api.post("/api/v1/events", json={"events": events})
    assert await run_ids(temporal, wid) == [
        (await temporal.get_workflow_handle(wid).describe()).run_id
    ]
    assert [(f.workflow_id, f.attempts) for f in firings(factory)] == [(wid, 1)]


def _hang_forever(starter) -> asyncio.Event:
    """Temporal takes the start requests and never answers; returns the event that frees them."""
    release = asyncio.Event()

    async def stuck(firings, waits) -> None:
        await release.wait()

    starter._pass = stuck
    return release


@pytest.mark.parametrize("when", ["before the starter took it", "while the start hung"])
async def test_the_api_gone_after_the_commit_loses_nothing(when, settings, temporal, factory, emp):
    token = make_token(factory, ALL_SCOPES)
    async with running_app(settings, temporal, token) as api:
        state = api.app.state
        await state.reconciler.stop()  # this process will not live to reconcile
        if when == "before the starter took it":
            await state.starter.stop(grace=0)
        else:
            _hang_forever(state.starter)
        r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
        assert r.status_code == 200, r.text
        [fired] = [f for e in r.json()["results"] for f in e["fired"]]
        assert fired["status"] == "queued"
    # The app has shut down: committed, never started.
    [row] = firings(factory)
    assert (row.status, row.attempts, row.error) == ("pending", 0, None)
    wid = fired["workflow_id"]
    with pytest.raises(RPCError) as exc:
        await temporal.get_workflow_handle(wid).describe()
    assert exc.value.status == RPCStatusCode.NOT_FOUND

    # A fresh API process: its reconciler finds the row and starts it, once.
    async with running_app(settings, temporal, token) as api:
        row = await wait_started(factory, wid)
        assert (row.status, row.attempts, row.error) == ("started", 1, None)
        desc = await temporal.get_workflow_handle(wid).describe()
        assert desc.status == WorkflowExecutionStatus.RUNNING
        await api.app.state.reconciler.run_once()
    assert await run_ids(temporal, wid) == [desc.run_id]
    assert [(f.status, f.attempts) for f in firings(factory)] == [("started", 1)]


# -- backoff: the reconciler's order and giving up, with a Temporal that answers with errors


class Refusing:
    """A Temporal client whose start requests all fail with `status`."""

    def __init__(self, status: RPCStatusCode) -> None:
        self.status, self.calls = status, 0

    async def start_workflow(self, *args, **kwargs):
        self.calls += 1
        raise RPCError(f"refused ({self.status.name})", self.status, b"")


def store_firings(factory, n: int, tag: str) -> list[int]:
    [plan] = load_ruleset([EXAMPLES_DIR / "overtime_care.yaml"]).plans
    rows = {}
    for i in range(n):
        match = SimpleNamespace(dedupe_key=f"{tag}-{i}/2026-W02", matched=[], values={})
        ctx = {"event": None, "employee": {"id": f"{tag}-{i}"}, "profile": {}, "vars": {}}
        row = firing_row(plan, match, ctx, f"{tag}-{i}", None)
        rows[row["workflow_id"]] = row
    with factory.begin() as s:
        ids = insert_firings(s, rows)
    return sorted(ids.values())


async def test_a_failing_row_backs_off_and_newer_rows_go_first(factory):
    old, new = store_firings(factory, 2, "B")
    client = Refusing(RPCStatusCode.UNAVAILABLE)
    reconciler = Reconciler(client, factory, "q", retry_seconds=60, batch=1)  # type: ignore[arg-type]

    async def attempt(now):
        due = reconciler._due(now, now)
        await start_firings(client, factory, due, "q", retry_seconds=60)  # type: ignore[arg-type]
        return due

    now = utcnow()
    assert await attempt(now) == [old]  # both untried: the older first
    assert await attempt(now) == [new]  # the failed one waits out its backoff meanwhile
    assert reconciler._due(now, now) == []
    minute = now + timedelta(seconds=61)
    assert await attempt(minute) == [old]  # both due again, the longest-due first
    # The row failing for the second time now waits twice as long: the newer one goes first.
    assert await attempt(minute) == [new]
    by_id = {f.id: f for f in firings(factory)}
    assert by_id[old].next_attempt_at >= now + timedelta(seconds=120)  # 60 s, then 120 s
    assert [(by_id[i].status, by_id[i].attempts) for i in (old, new)] == [
        ("pending", 2),
        ("pending", 2),
    ]
    assert "UNAVAILABLE" in by_id[old].error and client.calls == 4


async def test_an_outage_is_retried_but_a_permanent_error_gives_up(factory):
    outage, wrong = store_firings(factory, 2, "P")
    for _ in range(FAIL_AFTER + 2):
        await start_firings(
            Refusing(RPCStatusCode.UNAVAILABLE), factory, [outage], "q", retry_seconds=0
        )
        await start_firings(
            Refusing(RPCStatusCode.PERMISSION_DENIED), factory, [wrong], "q", retry_seconds=0
        )
    by_id = {f.id: f for f in firings(factory)}
    assert (by_id[outage].status, by_id[outage].attempts) == ("pending", FAIL_AFTER + 2)
    assert (by_id[wrong].status, by_id[wrong].attempts) == ("failed", FAIL_AFTER)
    assert "PERMISSION_DENIED" in by_id[wrong].error
