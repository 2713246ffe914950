"""Record the histories that `test_replay.py` replays against the current workflow code.

    python tests/workflows/make_histories.py          # all
    python tests/workflows/make_histories.py policy   # only the notification-policy ones
    python tests/workflows/make_histories.py task_snoozed  # only the snoozed task
    python tests/workflows/make_histories.py score_args    # only the score step's `with:`
    python tests/workflows/make_histories.py task_quiet_hours  # only the task held by night
    python tests/workflows/make_histories.py decided  # only the rule decided at ingest
    python tests/workflows/make_histories.py task_in_progress  # acknowledged, undone, delegated
    python tests/workflows/make_histories.py task_working_days  # due and reminder in working days

Runs representative workflows on the time-skipping test server with a throwaway SQLite store
and saves each history to histories/<name>.json. Re-record only when a change is *meant* to
be incompatible (and then version the workflow): the committed histories stand for workflows
that are running in production while a new worker is deployed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import scenarios as sc  # this folder is sys.path[0] when run as a script
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from wendu.rules.plan import Policy
from wendu.store.db import make_engine, make_session_factory, upgrade
from wendu.worker import build_worker
from wendu.workflows import RuleWorkflow, ScanWorkflow, TaskWorkflow
from wendu.workflows.io import (
    EVENT_SIGNAL,
    SCAN_SCHEDULE,
    TASK_ACT_UPDATE,
    TASK_SNOOZE_UPDATE,
    TASK_STATE_QUERY,
    TASK_UNDO_UPDATE,
    EventArrived,
    ScanInput,
    SnoozeRequest,
    TaskAction,
    TaskView,
    UndoRequest,
)
from wendu.workflows.rule_workflow import task_id_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


@activity.defn(name=SCAN_SCHEDULE)
async def scan_schedule(inp: ScanInput) -> dict:
    """Stands in for the real scan (another module): the workflow only calls it."""
    activity.heartbeat(0)
    return {"rule_id": inp.rule_id, "employees": 3, "fired": 1}


def _test_server() -> str:
    found = Path(sys.executable).parent / "temporal-test-server"
    return str(found) if found.exists() else shutil.which("temporal-test-server") or ""


async def _save(name: str, handle: WorkflowHandle) -> None:
    history = await handle.fetch_history()
    data = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
    path = sc.HISTORIES_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


async def _task_started(client: Client, rule_id: str) -> WorkflowHandle:
    task = client.get_workflow_handle(f"task/{task_id_for(rule_id, 'steps[1]')}")
    for _ in range(200):
        try:
            if await task.query(TASK_STATE_QUERY, result_type=TaskView | None):
                return task
        except Exception:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError(task.id)


async def record(env: WorkflowEnvironment, queue: str) -> None:
    client = env.client

    wid = "rule/overtime-notice/E1"
    await client.execute_workflow(
        RuleWorkflow.run, sc.rule_input(sc.notify_plan()), id=wid, task_queue=queue
    )
    await _save("rule_notify", client.get_workflow_handle(wid))

    # Reminder, escalation after two days, then the skip manager completes it.
    wid = "rule/overtime-checkin/E1"
    rule = await client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.task_plan()), id=wid, task_queue=queue
    )
    task = await _task_started(client, wid)
    await env.sleep(timedelta(days=2, hours=1))
    await task.execute_update(
        TASK_ACT_UPDATE,
        TaskAction(action="complete", actor_id="S1", comment="talked"),
        result_type=TaskView,
    )
    await rule.result()
    await _save("rule_task_escalated_completed", rule)
    await _save("task_escalated_completed", task)

    # Dismissed by the manager right away: the rule's else branch.
    wid = "rule/overtime-checkin/E1-dismiss"
    rule = await client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.task_plan()), id=wid, task_queue=queue
    )
    task = await _task_started(client, wid)
    await task.execute_update(
        TASK_ACT_UPDATE,
        TaskAction(action="dismiss", actor_id="M1", comment="on leave"),
        result_type=TaskView,
    )
    await rule.result()
    await _save("rule_task_dismissed", rule)
    await _save("task_dismissed", task)

    wid = "rule/satisfaction-recovery/E1"
    rule = await client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.wait_for_plan()), id=wid, task_queue=queue
    )
    await asyncio.sleep(0.5)
    await rule.signal(EVENT_SIGNAL, EventArrived(event=sc.survey_event("s-1", 2)))
    await rule.signal(EVENT_SIGNAL, EventArrived(event=sc.survey_event("s-2", 4.5)))
    await rule.result()
    await _save("rule_wait_for_matched", rule)

    wid = "rule/satisfaction-recovery/E1-timeout"
    await client.execute_workflow(
        RuleWorkflow.run, sc.rule_input(sc.wait_for_plan()), id=wid, task_queue=queue
    )
    await _save("rule_wait_for_timeout", client.get_workflow_handle(wid))

    wid = "scan/weekly-attrition/2026-11-30"
    await client.execute_workflow(
        ScanWorkflow.run,
        ScanInput(rule_id="weekly-attrition", digest="d" * 64),
        id=wid,
        task_queue=queue,
    )
    await _save("scan", client.get_workflow_handle(wid))
    assert TaskWorkflow  # recorded as the children above
    await record_task_snoozed(env, queue)


async def record_task_snoozed(env: WorkflowEnvironment, queue: str) -> None:
    """Snoozed past its due time: the reminder and the escalation come when the snooze ends."""
    wid = "rule/overtime-checkin/E1-snoozed"
    rule = await env.client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.task_plan()), id=wid, task_queue=queue
    )
    task = await _task_started(env.client, wid)
    until = await env.get_current_time() + timedelta(days=3)
    await task.execute_update(
        TASK_SNOOZE_UPDATE, SnoozeRequest(actor_id="M1", until=until.isoformat()),
        result_type=TaskView,
    )
    await env.sleep(timedelta(days=3, hours=1))
    await task.execute_update(
        TASK_ACT_UPDATE, TaskAction(action="complete", actor_id="S1", comment="talked"),
        result_type=TaskView,
    )
    await rule.result()
    await _save("task_snoozed", task)


async def record_task_in_progress(env: WorkflowEnvironment, queue: str) -> None:
    """Acknowledged (no escalation for days), completed by mistake and undone, delegated to
    H1 with a comment, completed by H1."""
    wid = "rule/overtime-checkin/E1-in-progress"
    rule = await env.client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.task_plan()), id=wid, task_queue=queue
    )
    task = await _task_started(env.client, wid)

    async def act(action: str, actor: str, comment: str | None = None, to: str | None = None):
        await task.execute_update(TASK_ACT_UPDATE, TaskAction(
            action=action, actor_id=actor, comment=comment, to_id=to), result_type=TaskView)

    await act("acknowledge", "M1")
    await env.sleep(timedelta(days=3))
    await act("complete", "M1", "mis-click")
    await task.execute_update(TASK_UNDO_UPDATE, UndoRequest(actor_id="M1"), result_type=TaskView)
    await act("delegate", "M1", "H1 knows the team", "H1")
    await env.sleep(timedelta(hours=1))
    await act("complete", "H1", "talked")
    await rule.result()
    await _save("task_in_progress_undone", task)


async def _until_23(env: WorkflowEnvironment) -> None:
    """Skips the server's clock to the next 23:00 in Shanghai."""
    now = (await env.get_current_time()).astimezone(SHANGHAI)
    night = now.replace(hour=23, minute=0, second=0, microsecond=0)
    await env.sleep(night - now if night > now else night + timedelta(days=1) - now)


async def record_policy(env: WorkflowEnvironment, queue: str) -> None:
    """A message due at 23:00 in Shanghai, held by quiet hours and delivered at 08:00."""
    await _until_23(env)
    wid = "rule/overtime-notice/E1-quiet-hours"
    plan = sc.notify_plan(wait_seconds=60).model_copy(
        update={"policy": Policy(quiet_hours="21:00-08:00")})
    await env.client.execute_workflow(
        RuleWorkflow.run, sc.rule_input(plan), id=wid, task_queue=queue
    )
    await _save("rule_notify_quiet_hours", env.client.get_workflow_handle(wid))


async def record_task_quiet_hours(env: WorkflowEnvironment, queue: str) -> None:
    """A task assigned at 23:00: its assignment, its reminder (23:00 the next day), its
    escalation message (23:00 the day after, when the task moves at once) and the skip
    manager's reminder each arrive at 08:00; the skip manager completes it at 09:00."""
    await _until_23(env)
    wid = "rule/overtime-checkin/E1-quiet-hours"
    plan = sc.task_plan().model_copy(update={"policy": Policy(quiet_hours="21:00-08:00")})
    rule = await env.client.start_workflow(
        RuleWorkflow.run, sc.rule_input(plan), id=wid, task_queue=queue
    )
    task = await _task_started(env.client, wid)
    await env.sleep(timedelta(days=3, hours=10))
    await task.execute_update(
        TASK_ACT_UPDATE, TaskAction(action="complete", actor_id="S1", comment="talked"),
        result_type=TaskView,
    )
    await task.result()
    await rule.terminate()  # its own `done` message is the rule's history, not this one
    await _save("task_quiet_hours", task)


async def record_task_working_days(env: WorkflowEnvironment, queue: str) -> None:
    """A task whose due time and reminder were counted in working days (a local activity,
    after the `task-working-days` patch), completed by the manager after the reminder."""
    wid = "rule/overtime-checkin-workdays/E1"
    rule = await env.client.start_workflow(
        RuleWorkflow.run, sc.rule_input(sc.task_plan()), id=wid, task_queue=queue
    )
    task = await _task_started(env.client, wid)
    await env.sleep(timedelta(days=4))  # past the reminder, whatever the weekday
    await task.execute_update(
        TASK_ACT_UPDATE, TaskAction(action="complete", actor_id="M1", comment="done"),
        result_type=TaskView,
    )
    await rule.result()
    await _save("task_working_days", task)


async def record_score_args(env: WorkflowEnvironment, queue: str) -> None:
    """A score step with `with:` arguments, evaluated before the scorer runs."""
    wid = "rule/scorecard/E1"
    plan = sc.plan("scorecard", [
        {"kind": "score", "id": "steps[0]", "scorer": "scorecard", "bind": "card",
         "args": {"stage": {"source": "'senior'"},
                  "weights": {"source": "{'senior': {'training_completion': 1}}"}}},
        {"kind": "record", "id": "steps[1]", "metric": "scorecard",
         "value": {"source": "card.value"}},
    ])
    await env.client.execute_workflow(
        RuleWorkflow.run, sc.rule_input(plan), id=wid, task_queue=queue
    )
    await _save("rule_score_args", env.client.get_workflow_handle(wid))


async def record_decided(env: WorkflowEnvironment, queue: str) -> None:
    """A rule decided at ingest: its fast score in the context, a set of literals, the
    template picked from a table, and the outcome recorded in one local activity."""
    wid = "rule/needs-guide/E1"
    plan = sc.plan("needs-guide", [
        {"kind": "set", "id": "steps[0]", "values": {"link": {"source": "'https://hr'"}},
         "literals": {"link": "https://hr"}},
        {"kind": "score", "id": "steps[1]", "scorer": "intent", "bind": "intent"},
        {"kind": "notify", "id": "steps[2]", "to": [{"role": "employee"}],
         "channels": ["inapp"], "template": "", "once_per": "week", "bind": "guide",
         "template_from": {"table": "guides", "key": {"source": "score.intent.label"},
                           "choices": {"payroll": "notice"}}},
        {"kind": "record", "id": "steps[3]", "metric": "guides_pushed",
         "value": {"source": "1 if guide.sent else 0"}},
    ], event="chat.message").model_copy(update={"tables": {"guides": {"payroll": "notice"}},
                                                "fast_scores": ["intent"]})
    inp = sc.rule_input(plan)
    score = {"intent": {"value": 0.93, "label": "payroll", "model_version": "builtin-test",
                        "factors": [{"name": "工资", "value": "payroll", "contribution": 2.1,
                                     "direction": "increases"}]}}
    inp = inp.model_copy(update={"context": {**inp.context, "score": score}})
    await env.client.execute_workflow(RuleWorkflow.run, inp, id=wid, task_queue=queue)
    await _save("rule_decided_at_ingest", env.client.get_workflow_handle(wid))


async def main() -> None:
    only_policy = sys.argv[1:] == ["policy"]
    sc.HISTORIES_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/wendu.db")
        upgrade(engine)
        factory = make_session_factory(engine)
        sc.seed(factory)
        # No policy by default: the other histories must not depend on the hour they are
        # recorded at. The policy history brings its own, in its plan.
        settings = sc.settings("histories").model_copy(
            update={"quiet_hours": "", "daily_cap": 0})
        async with (
            await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter, test_server_existing_path=_test_server()
            ) as env,
            build_worker(env.client, settings, factory, extra_activities=[scan_schedule]),
        ):
            if sys.argv[1:] == ["task_snoozed"]:
                await record_task_snoozed(env, settings.task_queue)
            elif sys.argv[1:] == ["score_args"]:
                await record_score_args(env, settings.task_queue)
            elif sys.argv[1:] == ["task_quiet_hours"]:
                await record_task_quiet_hours(env, settings.task_queue)
            elif sys.argv[1:] == ["decided"]:
                await record_decided(env, settings.task_queue)
            elif sys.argv[1:] == ["task_in_progress"]:
                await record_task_in_progress(env, settings.task_queue)
            elif sys.argv[1:] == ["task_working_days"]:
                await record_task_working_days(env, settings.task_queue)
            else:
                if not only_policy:
                    await record(env, settings.task_queue)
                await record_policy(env, settings.task_queue)
                await record_task_quiet_hours(env, settings.task_queue)
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
