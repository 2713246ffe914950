"""The shipped example rules, compiled, run through the workflows with the shipped templates.

This is where the compiler's plan, the workflow's context and the templates' names meet.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from wendu.rules.catalog import profile_defaults
from wendu.rules.compiler import compile_text
from wendu.rules.matcher import rule_context
from wendu.rules.plan import Plan
from wendu.settings import Settings
from wendu.store.models import Notification, Outcome
from wendu.worker import build_worker
from wendu.workflows import RuleWorkflow, TaskWorkflow
from wendu.workflows.io import (
    TASK_ACT_UPDATE,
    TASK_STATE_QUERY,
    Firing,
    RuleInput,
    TaskAction,
    TaskView,
)
from wendu.workflows.rule_workflow import task_id_for

EXAMPLES = Path(__file__).parents[2] / "rules" / "examples"


def _example(name: str) -> Plan:
    path = EXAMPLES / f"{name}.yaml"
    return compile_text(path.read_text(encoding="utf-8"), str(path))


def _input(plan: Plan, event: dict[str, Any], profile: dict[str, Any]) -> RuleInput:
    return RuleInput(
        plan=plan,
        firing=Firing(
            rule_id=plan.rule_id,
            dedupe_key="E1/x",
            employee_id="E1",
            event_id=event["id"],
            matched=[c.source for c in plan.when],
            values={k: v for k, v in profile.items() if v},
        ),
        context={
            "event": event,
            "employee": {
                "id": "E1",
                "name": "李雷",
                "locale": "zh-CN",
                "manager_id": "M1",
                "groups": [],
            },
            "profile": {**profile_defaults(), **profile},
            "rule": rule_context(plan),
            "vars": {},
        },
    )


@pytest.fixture
async def real_templates_worker(env, session_factory):
    settings = Settings(environment="test", task_queue=f"ex-{uuid.uuid4().hex[:6]}")
    async with build_worker(env.client, settings, session_factory):
        yield settings


async def test_overtime_care_tells_manager_and_employee(
    env, real_templates_worker, session_factory
):
    plan = _example("overtime_care")
    event = {"id": "a-1", "type": "attendance.day_closed", "employee_id": "E1", "day": "2026-11-27"}
    profile = {"overtime_hours_7d": 24.5, "late_departures_7d": 3}
    await env.client.execute_workflow(
        RuleWorkflow.run,
        _input(plan, event, profile),
        id=f"rule/overtime-care/{uuid.uuid4().hex[:6]}",
        task_queue=real_templates_worker.task_queue,
    )
    with session_factory() as session:
        rows = {r.recipient_id: r for r in session.scalars(select(Notification))}
    assert set(rows) == {"M1", "E1"}
    assert rows["M1"].locale == "en" and "24.5 hours of overtime" in rows["M1"].subject
    assert rows["E1"].locale == "zh-CN" and "24.5 小时" in rows["E1"].body
    # The why, for the employee: the rule's name in plain words, not its conditions.
    assert rows["E1"].body.rstrip().endswith("触发原因：「加班关怀」规则")
    assert "profile." not in rows["E1"].body and "overtime-care" not in rows["E1"].body


async def test_satisfaction_checkin_dismissed_reaches_the_hrbp(
    env, real_templates_worker, session_factory
):
    plan = _example("satisfaction_checkin")
    event = {
        "id": "s-9",
        "type": "survey.response",
        "employee_id": "E1",
        "survey_id": "pulse-48",
        "satisfaction": 2.0,
    }
    profile = {"satisfaction_last": 2.0, "satisfaction_avg": 3.6, "satisfaction_drop": 1.6}
    wid = f"rule/satisfaction-checkin/{uuid.uuid4().hex[:6]}"
    rule = await env.client.start_workflow(
        RuleWorkflow.run,
        _input(plan, event, profile),
        id=wid,
        task_queue=real_templates_worker.task_queue,
    )
    task = env.client.get_workflow_handle_for(
        TaskWorkflow.run, f"task/{task_id_for(wid, plan.steps[0].id)}"
    )
    async with asyncio.timeout(10):
        while True:
            try:
                if await task.query(TASK_STATE_QUERY, result_type=TaskView | None):
                    break
            except Exception:
                pass
            await asyncio.sleep(0.05)
    await task.execute_update(
        TASK_ACT_UPDATE,
        TaskAction(action="dismiss", actor_id="M1", comment="on leave"),
        result_type=TaskView,
    )
    result = await rule.result()
    assert result.vars["checkin"]["status"] == "dismissed"
    with session_factory() as session:
        rows = list(session.scalars(select(Notification).order_by(Notification.id)))
        outcome = session.scalars(select(Outcome)).one()
    assert [(r.template, r.recipient_id) for r in rows] == [
        ("satisfaction_checkin_task", "M1"),
        ("checkin_dismissed", "H1"),
    ]
    assert "1:1 check-in with 李雷" in rows[0].subject
    assert f"/tasks/{task_id_for(wid, plan.steps[0].id)}" in rows[0].body
    assert 'rule "Satisfaction drop check-in" v1' in rows[0].body
    assert (outcome.metric, outcome.value) == ("satisfaction_checkins_completed", 0.0)
