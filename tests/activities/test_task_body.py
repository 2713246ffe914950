"""A task's description is its assignment message as the assignee reads it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from wendu.activities.notify import Notifier
from wendu.activities.render import TemplateRenderer
from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR
from wendu.store.db import transaction
from wendu.store.models import Notification, Task
from wendu.workflows.io import NotifyInput

DUE = "2026-12-16T11:32:23+00:00"


def _task_row() -> Task:
    return Task(id="T-9", key="k/T-9", workflow_id="task/T-9", parent_workflow_id="rule/x/E1",
                rule_id="x", subject_employee_id="E1", assignee_id="H1", assignee_role="hrbp",
                title="与 李雷 进行 1:1 沟通", status="open", escalation_level=0,
                due_at=datetime.fromisoformat(DUE).astimezone(UTC))


def _message(purpose: str, template: str) -> NotifyInput:
    task = {"id": "T-9", "title": "与 李雷 进行 1:1 沟通", "status": "open", "due_at": DUE,
            "escalation_level": 0, "assignee_id": "H1"}
    return NotifyInput(
        workflow_id="task/T-9", step_id="steps[2]", rule_id="x", template=template,
        channels=["inapp"], recipient_ids=["H1"], subject_employee_id="E1",
        context={"employee": {"id": "E1", "name": "李雷"},
                 "rule": {"id": "x", "version": 1, "title": {"zh": "测试", "en": "Test"}}},
        extra={"task": task, "why": "rule x v1", "why_zh": "规则 x（第 1 版）"},
        purpose=purpose)


async def test_the_assignment_message_becomes_the_tasks_description_once(store):
    with transaction(store) as session:
        session.add(_task_row())
    notifier = Notifier(store, TemplateRenderer(DEFAULT_TEMPLATES_DIR),
                        public_url="https://hr.example.com/")
    env = ActivityEnvironment()
    sent = await env.run(notifier.notify_task, _message("assigned", "task_assigned"))
    assert [d.status for d in sent.deliveries] == ["delivered"]
    with store() as session:
        body = session.get(Task, "T-9").body
    assert body.startswith("韩梅梅，您好：\n\n您有一项关于 李雷 的新任务：与 李雷 进行 1:1 沟通")
    assert "截止时间：2026年12月16日（周三）19:32" in body
    # The page it is shown on is not linked from itself.
    assert "console/tasks" not in body

    # A reminder (and any later message) leaves the description as it is.
    await env.run(notifier.notify_task, _message("reminder/0/0", "task_reminder"))
    with store() as session:
        assert session.get(Task, "T-9").body == body
        message = session.scalars(select(Notification.body).where(
            Notification.key == "task/T-9/steps[2]/H1/inapp/assigned")).one()
    # The message itself links the task's page under WENDU_PUBLIC_URL.
    assert message.startswith(body.split("\n\n触发原因")[0])
    assert "处理入口：https://hr.example.com/console/tasks/T-9" in message
