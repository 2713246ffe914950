"""Daily cap and digest in the activities, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import OperationalError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from wendu.activities.notify import Notifier
from wendu.activities.policy import PolicyActivities
from wendu.activities.render import TemplateRenderer
from wendu.channels.inapp import InAppChannel
from wendu.channels.registry import ChannelError, ChannelRegistry, OutgoingMessage
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification, NotificationCount
from wendu.workflows.io import DigestInput, NotifyInput, ReachInput, WorkingTimeInput

WHY = {"why": "rule overtime-notice v3"}


def message(sc, n: int, at: str, **changes) -> NotifyInput:
    base = dict(
        workflow_id=f"rule/overtime-notice/E1-{n}", step_id="steps[0]", rule_id="overtime-notice",
        template="notice", channels=["inapp"], roles=["manager"], subject_employee_id="E1",
        context=sc.rule_input(sc.notify_plan()).context, extra=WHY, at=at,
    )
    return NotifyInput(**{**base, **changes})


def rows(store) -> list[Notification]:
    with store() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


async def test_over_the_cap_is_folded_and_sent_once_in_the_next_days_digest(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), daily_cap=2)
    policy = PolicyActivities(store, notifier, quiet_hours="21:00-08:00")
    env = ActivityEnvironment()
    # 10:00 to 10:03 in Shanghai; the urgent one neither counts nor is folded.
    for n in range(3):
        await env.run(notifier.notify, message(sc, n, f"2026-11-26T02:0{n}:00+00:00"))
    await env.run(notifier.notify, message(sc, 9, "2026-11-26T02:05:00+00:00", urgent=True))
    # A retried attempt of the folded message decides the same and sends nothing.
    again = await env.run(notifier.notify, message(sc, 2, "2026-11-26T02:02:00+00:00"))
    assert [d.status for d in again.deliveries] == ["duplicate"]
    assert [r.status for r in rows(store)] == ["delivered", "delivered", "digest", "delivered"]

    # 07:00 the next day is still quiet; 09:00 sends the digest, and only once.
    assert (await env.run(policy.send_digests, DigestInput(now="2026-11-26T23:00:00+00:00"))
            ).sent == []
    first = await env.run(policy.send_digests, DigestInput(now="2026-11-27T01:00:00+00:00"))
    second = await env.run(policy.send_digests, DigestInput(now="2026-11-27T02:00:00+00:00"))
    assert first.sent == ["digest/M1/2026-11-27"] and second.sent == []
    digests = [r for r in rows(store) if r.template == "digest"]
    assert len(digests) == 1
    assert (digests[0].recipient_id, digests[0].status, digests[0].locale) == (
        "M1", "delivered", "en")
    assert digests[0].body.count("Heads-up: 李雷") == 1


async def test_reach_groups_recipients_by_the_end_of_their_own_night(store, sc):
    with transaction(store) as session:
        session.get(Employee, "M1").timezone = "Europe/Berlin"
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    policy = PolicyActivities(store, notifier, quiet_hours="21:00-08:00")
    env = ActivityEnvironment()
    # 23:00 in Shanghai, 16:00 in Berlin.
    found = await env.run(policy.reach, ReachInput(
        roles=["employee", "manager", "hrbp"], subject_employee_id="E1",
        now="2026-11-26T15:00:00+00:00"))
    assert found.now_ids == ["M1"]
    assert [(g.at, g.recipient_ids) for g in found.held] == [
        ("2026-11-27T00:00:00+00:00", ["E1", "H1"])]
    # The rule's own "off" wins over the setting.
    found = await env.run(policy.reach, ReachInput(
        roles=["employee"], subject_employee_id="E1", quiet_hours="",
        now="2026-11-26T15:00:00+00:00"))
    assert found.now_ids == ["E1"] and found.held == []


async def test_quiet_hours_hold_through_national_day_and_tasks_count_working_days(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR))
    policy = PolicyActivities(store, notifier, quiet_hours="21:00-08:00", work_calendar="cn")
    env = ActivityEnvironment()
    # 2 October 2026, 10:00 in Shanghai: a holiday; held until 08:00 on the 8th, the first day
    # back. The "off" calendar holds nothing by day.
    found = await env.run(policy.reach, ReachInput(
        roles=["employee"], subject_employee_id="E1", now="2026-10-02T02:00:00+00:00"))
    assert [(g.at, g.recipient_ids) for g in found.held] == [("2026-10-08T00:00:00+00:00", ["E1"])]
    plain = PolicyActivities(store, notifier, quiet_hours="21:00-08:00", work_calendar="off")
    found = await env.run(plain.reach, ReachInput(
        roles=["employee"], subject_employee_id="E1", now="2026-10-02T02:00:00+00:00"))
    assert found.now_ids == ["E1"]

    # Due in 3 days from Tuesday 29 September: the 30th, then 8 and 9 October; reminded a day
    # before, on the 8th.
    due = await env.run(policy.working_time, WorkingTimeInput(
        start="2026-09-29T02:00:00+00:00", seconds=3 * 86400, before=[86400]))
    assert (due.due_at, due.remind_at) == ("2026-10-09T02:00:00+00:00",
                                           ["2026-10-08T02:00:00+00:00"])


async def test_the_digest_waits_for_the_end_of_a_public_holiday(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), daily_cap=1)
    policy = PolicyActivities(store, notifier, quiet_hours="21:00-08:00", work_calendar="cn")
    env = ActivityEnvironment()
    for n in range(2):  # 30 September, 10:00 in Shanghai: the second one is folded
        await env.run(notifier.notify, message(sc, n, f"2026-09-30T02:0{n}:00+00:00"))
    # 1 to 7 October are National Day: no digest at 09:00 on the 2nd; on the 8th, one.
    assert (await env.run(policy.send_digests, DigestInput(now="2026-10-02T01:00:00+00:00"))
            ).sent == []
    sent = await env.run(policy.send_digests, DigestInput(now="2026-10-08T01:00:00+00:00"))
    assert sent.sent == ["digest/M1/2026-10-08"]


async def test_a_retried_message_keeps_its_first_decision_under_the_cap(store, sc):
    class Flaky:
        name = "wecom"
        up = False

        async def send(self, message: OutgoingMessage) -> None:
            if not Flaky.up:
                raise ChannelError("errcode -1: system busy", retryable=True)

    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR),
                        ChannelRegistry([InAppChannel(), Flaky()]), daily_cap=1)
    env = ActivityEnvironment()
    first = message(sc, 1, "2026-11-26T02:00:00+00:00", channels=["inapp", "wecom"])
    with pytest.raises(ApplicationError, match="system busy"):
        await env.run(notifier.notify, first)
    # Another message the same day is over the cap of one...
    await env.run(notifier.notify, message(sc, 2, "2026-11-26T03:00:00+00:00"))
    # ...but the first, retried, is still sent on the channel that was busy.
    Flaky.up = True
    retried = await env.run(notifier.notify, first)
    assert [(d.channel, d.status) for d in retried.deliveries] == [
        ("inapp", "duplicate"), ("wecom", "delivered")]
    assert [(r.workflow_id[-4:], r.channel, r.status) for r in rows(store)] == [
        ("E1-1", "inapp", "delivered"), ("E1-1", "wecom", "delivered"),
        ("E1-2", "inapp", "digest")]


async def test_deliveries_at_the_same_instant_never_pass_the_cap(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), daily_cap=3)
    # Twelve rule messages to M1 at 10:00 in Shanghai, decided at once in worker threads.
    results = await asyncio.gather(*(
        ActivityEnvironment().run(notifier.notify, message(sc, n, "2026-11-26T02:00:00+00:00"))
        for n in range(12)))
    statuses = [d.status for result in results for d in result.deliveries]
    assert sorted(statuses) == ["delivered"] * 3 + ["digest"] * 9
    assert sorted(r.status for r in rows(store)) == ["delivered"] * 3 + ["digest"] * 9
    with store() as session:
        [count] = session.scalars(select(NotificationCount)).all()
    assert (count.recipient_id, count.local_date, count.sent) == ("M1", "2026-11-26", 3)


async def test_the_count_starts_from_the_messages_stored_before_it(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), daily_cap=2)
    env = ActivityEnvironment()
    await env.run(notifier.notify, message(sc, 1, "2026-11-26T02:00:00+00:00"))
    with transaction(store) as session:  # as if sent before counters were kept
        session.execute(delete(NotificationCount))
    for n in (2, 3):
        await env.run(notifier.notify, message(sc, n, "2026-11-26T03:00:00+00:00"))
    assert [r.status for r in rows(store)] == ["delivered", "delivered", "digest"]


# PostgreSQL only: SQLite has one writer at a time, so there is no row lock to look at.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_deciding_for_one_recipient_does_not_hold_up_another(store, sc, engine):
    assert engine.dialect.name == "postgresql"
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), daily_cap=5)
    day = "2026-11-26"

    def count(session, recipient_id: str) -> bool:
        session.execute(text("SET LOCAL lock_timeout = '300ms'"))
        notifier._open_count(session, recipient_id, day)
        return notifier._count_one(session, recipient_id, day, 5)

    with transaction(store) as deciding:  # a delivery to M1, not yet committed
        assert count(deciding, "M1")
        with transaction(store) as other:
            assert count(other, "E1")  # another recipient goes straight on
        with pytest.raises(OperationalError, match="lock timeout"), transaction(store) as same:
            count(same, "M1")  # the same recipient waits for the first to finish
    with transaction(store) as after:
        assert count(after, "M1")
    with store() as session:
        sent = dict(session.execute(
            select(NotificationCount.recipient_id, NotificationCount.sent)).all())
    assert sent == {"M1": 2, "E1": 1}


async def test_the_digest_run_forgets_the_counts_of_past_days(store, sc):
    notifier = Notifier(store, TemplateRenderer(sc.TEMPLATES_DIR), daily_cap=2)
    policy = PolicyActivities(store, notifier, quiet_hours="21:00-08:00")
    env = ActivityEnvironment()
    for n, at in enumerate(["2026-11-24T02:00:00+00:00", "2026-11-26T02:00:00+00:00"]):
        await env.run(notifier.notify, message(sc, n, at))
    await env.run(policy.send_digests, DigestInput(now="2026-11-26T03:00:00+00:00"))
    with store() as session:
        kept = session.scalars(select(NotificationCount.local_date)).all()
    assert kept == ["2026-11-26"]
