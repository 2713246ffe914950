"""The delivery activity over real channels: retries, recorded failures, no double sends,
preferred channels and per-channel template variants (ActivityEnvironment, both databases)."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from wendu.activities.notify import Notifier
from wendu.activities.render import TemplateRenderer
from wendu.api import notifications
from wendu.channels.inapp import InAppChannel
from wendu.channels.registry import ChannelError, ChannelRegistry, OutgoingMessage
from wendu.channels.wecom import WeComChannel, WeComClient
from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR, TemplateCatalog
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification
from wendu.tokens import create_token
from wendu.workflows.io import NotifyInput

PEOPLE = [
    dict(id="E1004", name="张伟", manager_id="E1002", locale="zh-CN", wecom_userid="zhangwei",
         preferred_channels=["wecom"]),
    dict(id="E1002", name="李娜", locale="zh-CN", wecom_userid="lina",
         preferred_channels=["email", "wecom"], email="lina@example.com"),
    dict(id="E1010", name="Alex <Ops>", manager_id="E1002", locale="en", wecom_userid="alex"),
]


class Recording:
    """A channel that keeps what it was given (for what the notifier hands each channel)."""

    def __init__(self, name: str) -> None:
        self.name, self.sent = name, []

    async def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def store(session_factory):
    with transaction(session_factory) as session:
        session.add_all(Employee(**p) for p in PEOPLE)
    return session_factory


@pytest.fixture
async def wecom(wecom_server, fake_wecom):
    client = WeComClient(fake_wecom.CORP_ID, fake_wecom.SECRET, fake_wecom.AGENT_ID,
                         wecom_server.url, attempts=2, backoff=0.01)
    yield WeComChannel(client)
    await client.aclose()


def notifier(store, *channels, max_attempts: int = 10) -> Notifier:
    return Notifier(store, TemplateRenderer(DEFAULT_TEMPLATES_DIR),
                    ChannelRegistry([InAppChannel(), *channels]), max_attempts=max_attempts)


def overtime(subject: str = "E1004", **changes) -> NotifyInput:
    name = next(p["name"] for p in PEOPLE if p["id"] == subject)
    ctx = {
        "event": None, "vars": {}, "rule": {"id": "overtime-care", "version": 1},
        "employee": {"id": subject, "name": name},
        "profile": {"overtime_hours_7d": 24.0, "late_departures_7d": 6,
                    "project_name": "Atlas", "project_percent_done": 62.0},
    }
    base = dict(workflow_id=f"rule/overtime-care/{subject}", step_id="steps[1]",
                rule_id="overtime-care", template="overtime_manager", channels=["wecom"],
                roles=["manager"], subject_employee_id=subject, context=ctx,
                extra={"why": "rule overtime-care v1; when profile.overtime_hours_7d > 20"})
    return NotifyInput(**{**base, **changes})


def attempt(n: int, maximum: int = 3) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=n,
                                   retry_policy=RetryPolicy(maximum_attempts=maximum))
    return env


def rows(store) -> list[Notification]:
    with store() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


async def api_get(store, path: str, **params) -> list[dict]:
    app = FastAPI()
    app.state.session_factory = store
    app.include_router(notifications.router)
    with store.begin() as session:
        token = create_token(session, f"console-{uuid.uuid4().hex[:6]}", ["notifications:read"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_failing_wecom_is_retried_then_recorded_failed_and_listed(
    store, wecom, wecom_server
):
    wecom_server.fail_next(100, -1)
    activity = notifier(store, wecom).notify
    for n in (1, 2):
        with pytest.raises(ApplicationError) as raised:
            await attempt(n).run(activity, overtime())
        assert not raised.value.non_retryable and "-1" in raised.value.message
        [row] = rows(store)
        assert (row.status, row.attempts) == ("pending", n)
    result = await attempt(3).run(activity, overtime())  # the last attempt records, not raises
    assert [(d.recipient_id, d.status) for d in result.deliveries] == [("E1002", "failed")]
    [row] = rows(store)
    assert row.status == "failed" and row.attempts == 3
    assert row.error.startswith("gave up after 3 attempts: WeCom message/send errcode -1")
    assert wecom_server.messages == []

    failed = await api_get(store, "/api/v1/notifications", status="failed")
    assert [(n["recipient_id"], n["channel"], n["attempts"]) for n in failed] == [
        ("E1002", "wecom", 3)]
    assert "errcode -1" in failed[0]["error"]
    assert await api_get(store, "/api/v1/notifications") == []  # not in anyone's inbox


async def test_a_retried_activity_never_sends_twice(store, wecom, wecom_server):
    class ReplyLost(WeComChannel):
        """WeCom takes the first message but the answer never arrives (a timeout)."""

        lost = 1

        async def send(self, message: OutgoingMessage) -> None:
            await super().send(message)
            if self.lost:
                self.lost -= 1
                raise ChannelError("read timeout", retryable=True)

    activity = notifier(store, ReplyLost(wecom.client)).notify
    inp = overtime(channels=["inapp", "wecom"])
    with pytest.raises(ApplicationError):
        await attempt(1).run(activity, inp)
    second = await attempt(2).run(activity, inp)
    third = await attempt(3).run(activity, inp)
    assert [d.status for d in second.deliveries] == ["duplicate", "delivered"]
    assert [d.status for d in third.deliveries] == ["duplicate", "duplicate"]
    # Sent again under the same key after the lost answer: WeCom's duplicate check drops it,
    # and once delivered the row is never sent again.
    assert len(wecom_server.state.calls) == 2
    assert len(wecom_server.messages) == 1
    assert {(r.channel, r.status, r.attempts) for r in rows(store)} == {
        ("inapp", "delivered", 1), ("wecom", "delivered", 2)}


async def test_permanent_failure_is_recorded_at_once(store, wecom, wecom_server):
    result = await attempt(1).run(notifier(store, wecom).notify, overtime("E1010", roles=[
        "employee"]))
    assert [d.status for d in result.deliveries] == ["failed"]
    [row] = rows(store)
    assert row.status == "failed" and "81013" in row.error and row.attempts == 1


async def test_preferred_channels_fall_back_to_the_inbox(store, wecom, wecom_server):
    activity = notifier(store, wecom).notify
    # 李娜 prefers email, then WeCom; e-mail is not configured here, so WeCom. Alex has no
    # preference: the inbox.
    await attempt(1).run(activity, overtime(channels=["preferred"]))
    await attempt(1).run(activity, overtime("E1010", channels=[], roles=["employee"]))
    assert [(r.recipient_id, r.channel, r.status) for r in rows(store)] == [
        ("E1002", "wecom", "delivered"), ("E1010", "inapp", "delivered")]


async def test_task_messages_add_the_assignees_preferred_channel_as_a_card(
    store, wecom, wecom_server
):
    task = {"id": "T-42", "title": "1:1 check-in with 张伟", "status": "open",
            "due_at": "2026-11-29T09:00:00+08:00", "escalation_level": 0}
    inp = overtime(workflow_id="task/T-42", template="task_assigned", channels=["inapp"],
                   roles=[], recipient_ids=["E1002"], purpose="assigned",
                   extra={"why": "rule satisfaction-checkin v1", "task": task})
    await attempt(1).run(notifier(store, wecom).notify_task, inp)
    assert [r.channel for r in rows(store)] == ["inapp", "wecom"]
    [card] = wecom_server.messages
    body = card["template_card"]
    assert body["main_title"]["title"] == "新任务：1:1 check-in with 张伟"
    # The due time in the assignee's zone and words, not the stored ISO instant.
    assert body["sub_title_text"].startswith("关于 张伟，截止 2026年11月29日（周日）09:00。")
    assert body["button_list"][0]["key"] == "task:T-42:acknowledge"
    # Tapping the card opens the task's console page: an absolute link, since WeCom has no
    # site to resolve a path against.
    assert body["card_action"] == {"type": 1, "url": "http://127.0.0.1:8000/console/tasks/T-42"}


async def test_locale_and_channel_variant_are_chosen(store, wecom, wecom_server):
    email = Recording("email")
    activity = notifier(store, wecom, email).notify
    await attempt(1).run(activity, overtime(channels=["wecom", "email", "inapp"]))
    alex = overtime("E1010", roles=["employee"], channels=["email", "inapp"])
    await attempt(1).run(activity, alex)

    [md] = wecom_server.messages
    assert md["msgtype"] == "markdown"
    assert md["markdown"]["content"].startswith(
        '### 张伟 近 7 天加班 <font color="warning">24 小时</font>')
    zh_mail, en_mail = email.sent
    assert zh_mail.variant.startswith("<!doctype html>") and 'lang="zh-CN"' in zh_mail.variant
    assert zh_mail.body.startswith("李娜，您好：")  # the plain part: the zh-CN.j2 text
    # An English recipient gets en.email.j2, with their name escaped in the HTML only.
    assert 'lang="en"' in en_mail.variant and "Alex &lt;Ops&gt;" in en_mail.variant
    assert en_mail.body.startswith("Hi Alex <Ops>,")
    inbox = {r.recipient_id: r.body for r in rows(store) if r.channel == "inapp"}
    assert inbox["E1002"] == zh_mail.body and "<" not in inbox["E1002"].split("\n")[0]


def test_variant_templates_are_checked_like_the_others(tmp_path):
    from wendu.rules.compiler import EMPLOYEE, PROFILE, RULE
    from wendu.rules.expressions import Scope
    from wendu.rules.templates_catalog import notify_scope

    scope = notify_scope(Scope({"employee": EMPLOYEE, "profile": PROFILE, "rule": RULE}))
    folder = tmp_path / "hello"
    folder.mkdir()
    for locale in ("zh-CN", "en"):
        (folder / f"{locale}.j2").write_text(
            "{% block subject %}S{% endblock %}{% block body %}B{% endblock %}")
    (folder / "en.wecom.j2").write_text("{% block body %}{{ employe.name }}{% endblock %}")
    (folder / "en.pigeon.j2").write_text("{% block body %}B{% endblock %}")
    problems = [p.message for p in TemplateCatalog(tmp_path).check("hello", scope)]
    assert len(problems) == 2
    assert "variant en.pigeon.j2 should be named <locale>.<channel>.j2" in problems[0]
    assert problems[1].startswith("template 'hello' (en, wecom): unknown name 'employe'")
    assert "hello" in TemplateCatalog(tmp_path).names()


async def test_a_channel_is_offered_only_when_configured():
    from wendu.settings import Settings

    bare = ChannelRegistry.from_settings(Settings(environment="test"))
    assert bare.names() == ["inapp"]
    full = ChannelRegistry.from_settings(Settings(
        environment="test", wecom_corp_id="ww1", wecom_secret="s", wecom_agent_id=1000002,
        smtp_host="smtp.example.com", smtp_from="hr@example.com",
        webhook_url="https://bridge.example.com/hook", webhook_secret="k"))
    assert full.names() == ["email", "inapp", "webhook", "wecom"]
    await full.get("wecom").client.aclose()
    await full.get("webhook").aclose()
    with pytest.raises(ValueError, match="WENDU_WEBHOOK_SECRET"):
        Settings(environment="production", secret_key="x" * 32, webhook_url="https://b.example")
