from __future__ import annotations

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from wendu.activities.notify import Notifier
from wendu.activities.render import TemplateRenderer
from wendu.channels.inapp import InAppChannel
from wendu.channels.registry import ChannelError, ChannelRegistry, OutgoingMessage
from wendu.store.models import Notification
from wendu.workflows.io import NotifyInput


def _input(sc, **changes) -> NotifyInput:
    ctx = sc.rule_input(sc.notify_plan()).context
    base = dict(
        workflow_id="rule/overtime-notice/E1",
        step_id="steps[1]",
        rule_id="overtime-notice",
        template="notice",
        channels=["inapp"],
        roles=["manager", "employee"],
        subject_employee_id="E1",
        context=ctx,
        extra={"why": "rule overtime-notice v3; when profile.overtime_hours_7d > 20"},
    )
    return NotifyInput(**{**base, **changes})


def _rows(store) -> list[Notification]:
    with store() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


async def test_same_delivery_twice_stores_and_sends_once(store, sc):
    sent: list[OutgoingMessage] = []

    class Recording(InAppChannel):
        async def send(self, message: OutgoingMessage) -> None:
            sent.append(message)

    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), ChannelRegistry([Recording()]))
    env = ActivityEnvironment()
    first = await env.run(notifier.notify, _input(sc))
    again = await env.run(notifier.notify, _input(sc))

    assert [d.status for d in first.deliveries] == ["delivered", "delivered"]
    assert [d.status for d in again.deliveries] == ["duplicate", "duplicate"]
    assert [d.notification_id for d in again.deliveries] == [
        d.notification_id for d in first.deliveries
    ]
    rows = _rows(store)
    assert [(r.recipient_id, r.key) for r in rows] == [
        ("M1", "rule/overtime-notice/E1/steps[1]/M1/inapp"),
        ("E1", "rule/overtime-notice/E1/steps[1]/E1/inapp"),
    ]
    assert [m.recipient_id for m in sent] == ["M1", "E1"]


async def test_locale_of_each_recipient_is_used(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    await ActivityEnvironment().run(notifier.notify, _input(sc))
    by_recipient = {r.recipient_id: r for r in _rows(store)}
    assert by_recipient["M1"].locale == "en"
    assert by_recipient["M1"].subject == "Heads-up: 李雷"
    assert by_recipient["M1"].body.startswith("Hello Mary Ma (manager).")
    assert "profile.overtime_hours_7d > 20" in by_recipient["M1"].body
    assert by_recipient["E1"].locale == "zh-CN"
    assert by_recipient["E1"].subject == "提醒：李雷"


async def test_locale_falls_back_to_language_then_zh_cn(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    # S1 prefers en-US: no en-US.j2, so en.j2. `done` has only zh-CN.j2, so everyone gets that.
    result = await ActivityEnvironment().run(
        notifier.notify, _input(sc, roles=["skip_manager"], step_id="steps[9]")
    )
    checkin = {"actor_id": "M1", "comment": "聊过了", "status": "completed"}
    ctx = _input(sc).context | {"vars": {"checkin": checkin}}
    await ActivityEnvironment().run(
        notifier.notify, _input(sc, roles=["skip_manager"], template="done", context=ctx)
    )
    rows = {(r.template, r.recipient_id): r for r in _rows(store)}
    assert result.deliveries[0].recipient_id == "S1"
    assert rows[("notice", "S1")].locale == "en"
    assert rows[("done", "S1")].locale == "zh-CN"
    assert rows[("done", "S1")].body == "M1：聊过了"


async def test_unresolved_role_is_reported_and_others_still_delivered(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    ctx = sc.rule_input(sc.notify_plan(), "E2").context
    result = await ActivityEnvironment().run(
        notifier.notify,
        _input(
            sc, subject_employee_id="E2", roles=["manager", "skip_manager", "employee"], context=ctx
        ),
    )
    assert [d.recipient_id for d in result.deliveries] == ["E2"]
    assert len(result.unresolved) == 2
    assert result.unresolved[0].startswith("manager")
    assert result.unresolved[1].startswith("skip_manager")


async def test_failed_channel_is_recorded_not_retried(store, sc):
    class Down:
        name = "wecom"

        async def send(self, message: OutgoingMessage) -> None:
            raise ChannelError("errcode 60020: not allow to access from your ip")

    registry = ChannelRegistry([InAppChannel(), Down()])
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), registry)
    result = await ActivityEnvironment().run(
        notifier.notify, _input(sc, roles=["employee"], channels=["inapp", "wecom", "sms"])
    )
    assert [(d.channel, d.status) for d in result.deliveries] == [
        ("inapp", "delivered"),
        ("wecom", "failed"),
        ("sms", "failed"),
    ]
    errors = {r.channel: r.error for r in _rows(store)}
    assert "60020" in errors["wecom"]
    assert "unknown channel" in errors["sms"]


async def test_missing_template_variable_is_not_retryable(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(notifier.notify, _input(sc, template="done"))
    assert raised.value.non_retryable
    assert "checkin" in str(raised.value)
    assert _rows(store) == []


async def test_task_notifications_are_keyed_by_purpose_and_link_the_task(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    task = {
        "id": "T-1",
        "title": "Check in",
        "status": "open",
        "due_at": "2026-11-29T09:00:00+00:00",
        "escalation_level": 0,
    }
    base = _input(sc, workflow_id="task/T-1", roles=[], recipient_ids=["M1"], extra={"task": task})
    env = ActivityEnvironment()
    for purpose, template in [("assigned", "task_assigned"), ("reminder/0/0", "task_reminder")]:
        await env.run(
            notifier.notify_task, base.model_copy(update={"purpose": purpose, "template": template})
        )
    again = await env.run(
        notifier.notify_task,
        base.model_copy(update={"purpose": "reminder/0/0", "template": "task_reminder"}),
    )
    assert again.deliveries[0].status == "duplicate"
    rows = _rows(store)
    assert [r.key for r in rows] == [
        "task/T-1/steps[1]/M1/inapp/assigned",
        "task/T-1/steps[1]/M1/inapp/reminder/0/0",
    ]
    assert rows[0].body == (
        "Mary Ma, please handle by 2026-11-29T09:00:00+00:00: http://127.0.0.1:8000/console/tasks/T-1")


async def test_a_message_for_a_task_finished_meanwhile_is_not_sent(store, sc):
    from datetime import UTC, datetime

    from wendu.store.db import transaction
    from wendu.store.models import Task

    with transaction(store) as session:
        session.add(Task(id="T-2", key="rule/x/E1/steps[1]", workflow_id="task/T-2",
                         parent_workflow_id="rule/x/E1", assignee_id="M1",
                         assignee_role="manager", title="Check in", status="completed",
                         due_at=datetime(2026, 11, 29, tzinfo=UTC)))
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    held = _input(sc, workflow_id="task/T-2", roles=[], recipient_ids=["M1"],
                  template="task_reminder", purpose="reminder/0/0",
                  extra={"task": {"id": "T-2", "title": "Check in", "status": "open",
                                  "due_at": "2026-11-29T00:00:00+00:00"}})
    result = await ActivityEnvironment().run(notifier.notify_task, held)
    assert result.deliveries == []
    assert _rows(store) == []


def test_a_table_picks_its_template_and_names_a_value_it_lacks():
    from wendu.activities.notify import pick_template
    from wendu.rules.plan import Expr, TemplateLookup

    lookup = TemplateLookup(table="guides", key=Expr(source="score.intent.label"),
                            choices={"payroll": "guide_payroll"})
    ctx = {"score": {"intent": {"label": "payroll"}}, "vars": {}}
    assert pick_template(lookup, ctx) == "guide_payroll"
    with pytest.raises(ValueError, match="table 'guides' has no template for 'training'"):
        pick_template(lookup, {"score": {"intent": {"label": "training"}}, "vars": {}})
    with pytest.raises(ValueError, match="template key `score.intent.label`"):
        pick_template(lookup, {"vars": {}})
