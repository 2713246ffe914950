"""People, plans and inputs shared by the workflow tests and `make_histories.py`.

Plans are built directly (not compiled from YAML) so these tests exercise the workflows alone;
their expressions still run through the real expression engine.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from wendu.rules.plan import Plan
from wendu.settings import Settings
from wendu.store.db import transaction
from wendu.store.models import Employee
from wendu.workflows.io import Firing, RuleInput

TEMPLATES_DIR = Path(__file__).parent / "templates"
HISTORIES_DIR = Path(__file__).parent / "histories"
DAY = 86400

# E1 reports to M1, who reports to S1; H1 is E1's HR partner. E2 has no manager.
PEOPLE = [
    dict(id="E1", name="李雷", manager_id="M1", hrbp_id="H1", locale="zh-CN", groups=["eng"]),
    dict(id="M1", name="Mary Ma", manager_id="S1", locale="en", groups=["eng", "managers"]),
    dict(id="S1", name="Sam Shen", locale="en-US", groups=["managers"]),
    dict(id="H1", name="韩梅梅", locale="zh-CN", groups=["hr-ops"]),
    dict(id="H2", name="Hao Hu", locale="zh-CN", groups=["hr-ops"]),
    dict(id="H3", name="Former HR", locale="zh-CN", groups=["hr-ops"], active=False),
    dict(id="E2", name="Wang Wu", locale="zh-CN", groups=[]),
]


def seed(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        for person in PEOPLE:
            session.add(Employee(**person))


def settings(task_queue: str | None = None) -> Settings:
    return Settings(
        environment="test",
        templates_dir=TEMPLATES_DIR,
        task_queue=task_queue or f"test-{uuid.uuid4().hex[:8]}",
    )


def plan(
    rule_id: str, steps: list[dict[str, Any]], *, event: str = "attendance.day_closed"
) -> Plan:
    return Plan.model_validate(
        {
            "rule_id": rule_id,
            "version": 3,
            "title": {"zh": "测试规则", "en": "Test rule"},
            "trigger": {"kind": "event", "event": event},
            "when": [{"source": "profile.overtime_hours_7d > 20"}],
            "dedupe": {"source": "{{ employee.id }}"},
            "steps": steps,
        }
    )


def rule_input(p: Plan, employee_id: str = "E1") -> RuleInput:
    person = next(x for x in PEOPLE if x["id"] == employee_id)
    return RuleInput(
        plan=p,
        firing=Firing(
            rule_id=p.rule_id,
            dedupe_key=employee_id,
            employee_id=employee_id,
            event_id="ev-1",
            matched=["profile.overtime_hours_7d > 20"],
            values={"profile.overtime_hours_7d": 24.5},
        ),
        context={
            "event": {"id": "ev-1", "type": "attendance.day_closed", "employee_id": employee_id},
            "employee": {"id": employee_id, "name": person["name"], "locale": person["locale"]},
            "profile": {"overtime_hours_7d": 24.5, "overtime_hours_28d": 70.0},
            "rule": {"id": p.rule_id, "version": p.version, "title": p.title.en},
            "vars": {},
        },
    )


def notify_plan(wait_seconds: int = DAY) -> Plan:
    return plan(
        "overtime-notice",
        [
            {"kind": "score", "id": "steps[0]", "scorer": "burnout", "bind": "risk"},
            {
                "kind": "notify",
                "id": "steps[1]",
                "to": [{"role": "manager"}, {"role": "employee"}],
                "channels": ["inapp"],
                "template": "notice",
            },
            # Later (a day by default), record the score.
            {"kind": "wait", "id": "steps[2]", "seconds": wait_seconds},
            {
                "kind": "record",
                "id": "steps[3]",
                "metric": "burnout",
                "value": {"source": "risk.value"},
            },
        ],
    )


def task_plan(*, wait: bool = True, reminders: list[int] | None = None,
              urgent: bool = False) -> Plan:
    """assign_task to the manager (due 2d, escalate to the skip manager), then if/else on it.

    With wait=False the rule ends once the task is started, so there is no if/else.
    """
    steps = [
        {
            "kind": "set",
            "id": "steps[0]",
            "values": {"hours": {"source": "profile.overtime_hours_7d"}},
        },
        {
            "kind": "assign_task",
            "id": "steps[1]",
            "assignee": {"role": "manager"},
            "title": {"source": "Check in with {{ employee.name }} ({{ hours }} h)"},
            "template": "task_assigned",
            "due_seconds": 2 * DAY,
            "reminders_seconds": [DAY] if reminders is None else reminders,
            "escalate_to": [{"role": "skip_manager"}],
            "wait": wait,
            "urgent": urgent,
            "bind": "checkin",
        },
        {
            "kind": "if",
            "id": "steps[2]",
            "condition": {"source": "checkin.status == 'completed'"},
            "then": [
                {
                    "kind": "notify",
                    "id": "steps[2].then[0]",
                    "to": [{"role": "employee"}],
                    "channels": ["inapp"],
                    "template": "done",
                }
            ],
            "else": [
                {
                    "kind": "record",
                    "id": "steps[2].else[0]",
                    "metric": "checkin_skipped",
                    "value": {"source": "1"},
                }
            ],
        },
    ]
    return plan("overtime-checkin", steps if wait else steps[:2])


def wait_for_plan(timeout_seconds: int = 7 * DAY) -> Plan:
    return plan(
        "satisfaction-recovery",
        [
            {
                "kind": "wait_for",
                "id": "steps[0]",
                "event": "survey.response",
                "match": {"source": "event.satisfaction >= 4"},
                "timeout_seconds": timeout_seconds,
                "bind": "survey",
                "on_timeout": [
                    {
                        "kind": "notify",
                        "id": "steps[0].on_timeout[0]",
                        "to": [{"role": "manager"}],
                        "channels": ["inapp"],
                        "template": "notice",
                    }
                ],
            },
            {
                "kind": "record",
                "id": "steps[1]",
                "metric": "recovered",
                "value": {"source": "survey.satisfaction if survey is defined else 0"},
            },
        ],
        event="survey.response",
    )


def survey_event(event_id: str, satisfaction: float, employee_id: str = "E1") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "survey.response",
        "employee_id": employee_id,
        "occurred_at": "2026-11-27T09:00:00+08:00",
        "survey_id": "pulse-48",
        "satisfaction": satisfaction,
    }
