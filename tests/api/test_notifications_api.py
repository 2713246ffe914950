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


async def test_read_all_marks_one_inbox_and_needs_to_know_whose(api, factory):
    ids = seed(factory)
    r = await api.post("/api/v1/notifications/read-all", params={"recipient": "M1"})
    assert r.status_code == 200 and r.json() == {"marked": 2}  # M1's in-app messages only
    assert (await api.post("/api/v1/notifications/read-all",
                           params={"recipient": "M1"})).json() == {"marked": 0}
    unread = (await api.get("/api/v1/notifications", params={"unread": "true"})).json()
    assert [n["id"] for n in unread] == [ids[2]]  # E1's is E1's
    r = await api.post("/api/v1/notifications/read-all")
    assert r.status_code == 422 and "recipient" in r.json()["detail"]


async def test_firings_say_what_each_run_came_to_and_filter_by_time(api, factory):
    from wendu.store.models import Firing, Task

    base = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with factory.begin() as s:
        for i, key in enumerate(("messaged", "quiet", "tasked")):
            s.add(Firing(rule_id="r", dedupe_key=key, rule_digest="d",
                         workflow_id=f"rule/r/{i}", employee_id="E1", status="started",
                         context={}, created_at=base + timedelta(days=i)))
        s.add(Task(id="T-r", key="k/T-r", workflow_id="task/T-r", parent_workflow_id="rule/r/2",
                   rule_id="r", subject_employee_id="E1", assignee_id="M1",
                   assignee_role="manager", title="t", due_at=base + timedelta(days=9)))
    seed(factory)  # a message for each of rule/r/0..3: take rule/r/1's away
    with factory.begin() as s:
        s.query(Notification).filter(Notification.workflow_id == "rule/r/1").delete()
    listed = (await api.get("/api/v1/firings", params={"rule_id": "r"})).json()
    assert [(f["dedupe_key"], f["outcome"], f["messages"], f["tasks"]) for f in listed] == [
        ("tasked", "sent", 1, 1), ("quiet", "nothing", 0, 0), ("messaged", "sent", 1, 0)]
    window = {"since": (base + timedelta(hours=12)).isoformat(),
              "until": (base + timedelta(days=2)).isoformat()}
    assert [f["dedupe_key"] for f in (await api.get("/api/v1/firings", params=window)).json()
            ] == ["quiet"]
