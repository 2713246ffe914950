"""The Temporal worker: the workflows and every activity, with their dependencies built once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from wendu.activities.evaluate import Evaluator
from wendu.activities.notify import Notifier
from wendu.activities.outcomes import OutcomeActivities, ScoreActivities
from wendu.activities.policy import PolicyActivities
from wendu.activities.render import get_renderer
from wendu.activities.scan import ScanActivities
from wendu.activities.tasks import TaskActivities
from wendu.channels.registry import ChannelRegistry
from wendu.decide import FastScorers, warm_up_scorers
from wendu.digests import ensure_digest_schedule
from wendu.scorers.registry import ScorerRegistry
from wendu.settings import Settings
from wendu.temporal import connect
from wendu.workflows import WORKFLOWS

log = logging.getLogger(__name__)

# The sandbox still guards every workflow, but takes Wendu's own modules as they are loaded
# in the worker instead of importing (and compiling) them again for each new workflow, which
# cost more than the workflow itself. They keep no state between workflows: a module-level
# value is a constant, and every decision reads the workflow's own input and history.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("wendu")
)


def build_activities(
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    scorers: ScorerRegistry | None = None,
    channels: ChannelRegistry | None = None,
) -> list[Callable[..., Any]]:
    """Every activity method, bound to its owner (session factory, templates, scorers)."""
    notifier = Notifier(
        session_factory,
        get_renderer(str(settings.templates_path)),
        channels or ChannelRegistry.from_settings(settings),
        public_url=settings.public_base_url,
        max_attempts=settings.delivery_max_attempts,
        daily_cap=settings.daily_cap,
    )
    policy = PolicyActivities(session_factory, notifier, quiet_hours=settings.quiet_hours,
                              work_calendar=settings.work_calendar)
    tasks = TaskActivities(session_factory)
    outcomes = OutcomeActivities(session_factory)
    score = ScoreActivities(session_factory, scorers or ScorerRegistry.default(settings.data_dir))
    return [
        Evaluator().evaluate,
        notifier.notify,
        notifier.notify_task,
        tasks.create_task,
        tasks.escalate_task,
        tasks.apply_task_action,
        tasks.undo_task_action,
        outcomes.record_outcome,
        outcomes.register_wait,
        outcomes.clear_wait,
        score.score,
        policy.reach,
        policy.working_time,
        policy.send_digests,
    ]


def build_worker(
    client: Client,
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    extra_activities: Sequence[Callable[..., Any]] = (),
    scorers: ScorerRegistry | None = None,
    channels: ChannelRegistry | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    activities = build_activities(settings, session_factory, scorers=scorers, channels=channels)
    # The schedule scan starts RuleWorkflows itself, so it is the one activity with the client.
    activities.append(ScanActivities(session_factory, client, settings.task_queue).scan_schedule)
    extra_names = {_activity_name(fn) for fn in extra_activities}
    kept = [fn for fn in activities if _activity_name(fn) not in extra_names]
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[*kept, *extra_activities],
        workflow_runner=WORKFLOW_RUNNER,
        interceptors=interceptors,
    )


def _activity_name(fn: Callable[..., Any]) -> str | None:
    definition = getattr(fn, "__temporal_activity_definition", None)
    return getattr(definition, "name", None)


async def run_worker(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    extra_activities: Sequence[Callable[..., Any]] = (),
    client: Client | None = None,
) -> None:
    """Runs the worker until `stop` is set (or forever), on a migrated database.

    The worker registers every activity, the schedule scan included; `extra_activities` adds
    more (one named like a built-in replaces it). `client` is the API's own when both run in
    one process: workflows the API starts then go straight to this worker (eager start).
    """
    from wendu.store.db import make_engine, make_session_factory, upgrade

    engine = make_engine(settings.sqlalchemy_url)
    try:
        await asyncio.to_thread(upgrade, engine)
        if client is None:
            client = await connect(settings.temporal_address, settings.temporal_namespace)
        # The registry ingest decides with, when the API runs in this process (`wendu up`):
        # one copy of each model, the same versions deciding and explaining.
        scorers = FastScorers.default(settings.data_dir).registry
        warm_up_scorers(scorers)
        worker = build_worker(
            client, settings, make_session_factory(engine), extra_activities=extra_activities,
            scorers=scorers,
        )
        await ensure_digest_schedule(client, settings.task_queue)
        log.info("worker polling task queue %r", settings.task_queue)
        if stop is None:
            await worker.run()
            return
        async with worker:
            await stop.wait()
    finally:
        engine.dispose()
