"""Each person's notification preferences in the notifier, on SQLite and PostgreSQL: a muted
category is not sent (nor counted), a picked channel replaces the rule's, and task messages
are critical whatever was stored."""

from __future__ import annotations

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from wendu.activities.notify import Notifier
from wendu.activities.render import TemplateRenderer
from wendu.channels.inapp import InAppChannel
from wendu.channels.registry import ChannelRegistry, OutgoingMessage
from wendu.preferences import category_of
from wendu.store.db import transaction
from wendu.store.models import Notification
from wendu.store.models_preferences import NotificationPreference
from wendu.workflows.io import NotifyInput


class Mailbox:
    name = "email"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message.recipient_id)


def message(sc, **changes) -> NotifyInput:
    base = dict(workflow_id="rule/overtime-notice/E1", step_id="steps[1]",
                rule_id="overtime-notice", template="notice", channels=["inapp"],
                roles=["manager", "employee"], subject_employee_id="E1",
                context=sc.rule_input(sc.notify_plan()).context, extra={"why": "v3"})
    return NotifyInput(**{**base, **changes})


def choose(store, employee_id: str, category: str, *, muted=False, channel=None) -> None:
    with transaction(store) as session:
        session.add(NotificationPreference(employee_id=employee_id, category=category,
                                           muted=muted, channel=channel))


async def test_a_muted_category_is_not_sent_and_a_picked_channel_replaces_the_rules(store, sc):
    mail = Mailbox()
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR),
                        ChannelRegistry([InAppChannel(), mail]), daily_cap=1)
    assert category_of("notice") == "other"
    choose(store, "M1", "other", muted=True)
    choose(store, "E1", "other", channel="email")
    result = await ActivityEnvironment().run(notifier.notify, message(sc))
    assert result.muted == ["M1"]
    assert [(d.recipient_id, d.channel, d.status) for d in result.deliveries] == [
        ("E1", "email", "delivered")]
    assert mail.sent == ["E1"]
    # M1's muted message took nothing of the daily cap of 1: the next one reaches him.
    with transaction(store) as session:
        session.get(NotificationPreference, ("M1", "other")).muted = False
    again = await ActivityEnvironment().run(
        notifier.notify, message(sc, workflow_id="rule/overtime-notice/E1-2"))
    assert ("M1", "inapp", "delivered") in [
        (d.recipient_id, d.channel, d.status) for d in again.deliveries]


async def test_task_messages_are_critical_whatever_is_stored(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    choose(store, "M1", "tasks", muted=True)  # not through the API, which refuses it
    task = {"id": "T-1", "title": "Check in", "status": "open",
            "due_at": "2026-11-29T09:00:00+00:00", "escalation_level": 0}
    result = await ActivityEnvironment().run(notifier.notify_task, message(
        sc, workflow_id="task/T-1", roles=[], recipient_ids=["M1"], template="task_assigned",
        extra={"task": task}, purpose="assigned"))
    assert result.muted == []
    with store() as session:
        assert session.scalars(select(Notification.recipient_id)).all() == ["M1"]


async def test_a_step_named_compliance_reaches_people_who_muted_everything_else(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    for category in ("other", "learning", "compliance"):
        choose(store, "M1", category, muted=True)
    env = ActivityEnvironment()
    learning = await env.run(notifier.notify, message(sc, category="learning"))
    assert "M1" in learning.muted  # the step's category, not the template's ("other")
    compliance = await env.run(notifier.notify, message(
        sc, workflow_id="rule/overtime-notice/E1-c", category="compliance"))
    assert compliance.muted == [] and "M1" in {d.recipient_id for d in compliance.deliveries}
