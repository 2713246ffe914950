"""The in-app inbox: list by recipient and read state, mark read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wendu.store.models import Notification

pytestmark = pytest.mark.asyncio(loop_scope="session")


def seed(factory) -> list[int]:
    base = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rows = [
        Notification(key=f"wf/{i}/{to}/inapp", workflow_id=f"rule/r/{i}", step_id="steps[0]",
                     rule_id="r", recipient_id=to, subject_employee_id="E1", channel=channel,
                     template="overtime_manager", locale="zh-CN", subject=f"s{i}", body=f"b{i}",
                     created_at=base + timedelta(minutes=i))
        for i, (to, channel) in enumerate([("M1", "inapp"), ("M1", "inapp"), ("E1", "inapp"),
                                           ("M1", "email")])
    ]
    with factory.begin() as s:
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


async def test_inbox_lists_marks_read_and_filters_unread(api, factory):
    ids = seed(factory)
    inbox = (await api.get("/api/v1/notifications", params={"recipient": "M1"})).json()
    assert [n["id"] for n in inbox] == [ids[1], ids[0]]  # newest first, in-app only
    assert inbox[0]["subject"] == "s1" and inbox[0]["read_at"] is None

    r = await api.post(f"/api/v1/notifications/{ids[0]}/read")
    assert r.status_code == 200
    first_read = r.json()["read_at"]
    assert first_read is not None
    again = (await api.post(f"/api/v1/notifications/{ids[0]}/read")).json()
    assert again["read_at"] == first_read  # idempotent

    unread = (await api.get("/api/v1/notifications",
                            params={"recipient": "M1", "unread": "true"})).json()
    assert [n["id"] for n in unread] == [ids[1]]
    everything = (await api.get("/api/v1/notifications", params={"channel": ""})).json()
    assert len(everything) == 4


async def test_marking_an_unknown_notification_is_404(api):
    assert (await api.post("/api/v1/notifications/999999/read")).status_code == 404


async def test_the_status_filter_takes_every_status_a_notification_can_have(api, factory):
    ids = seed(factory)
    statuses = ["pending", "delivered", "failed", "digest"]
    with factory.begin() as s:
        for nid, status in zip(ids, statuses, strict=True):
            s.get(Notification, nid).status = status
    for nid, status in zip(ids, statuses, strict=True):
        r = await api.get("/api/v1/notifications", params={"status": status})
        assert r.status_code == 200, r.text
        assert [n["id"] for n in r.json()] == [nid]  # every channel: the e-mail one too

    r = await api.get("/api/v1/notifications", params={"status": "sent"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", "status"]
    assert all(f"'{status}'" in error["msg"] for status in statuses)
