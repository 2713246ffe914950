"""A task's title in the reader's language: `title` in the requested locale (else the
Accept-Language header's, else the assignee's), `titles` with every language."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from wendu.store.models import Task, utcnow

from .conftest import hire

pytestmark = pytest.mark.asyncio(loop_scope="session")


def task(tid: str, assignee: str, title: str, titles: dict | None = None) -> Task:
    return Task(id=tid, key=f"k/{tid}", workflow_id=f"task/{tid}", parent_workflow_id="rule/x/1",
                rule_id="x", subject_employee_id=None, assignee_id=assignee,
                assignee_role="manager", title=title, titles=titles, status="open",
                due_at=utcnow() + timedelta(days=1))


async def test_titles_follow_the_locale_asked_for_and_old_glued_ones_are_split(api, factory):
    zh, en = f"Z{uuid.uuid4().hex[:6]}", f"N{uuid.uuid4().hex[:6]}"
    r = await api.post("/api/v1/events", json={"events": [
        hire(zh), {**hire(en), "data": {"name": "Mary", "hired_on": "2025-01-06",
                                        "locale": "en"}}]})
    assert r.status_code == 200, r.text
    with factory.begin() as s:
        s.add(task(f"T-{zh}", zh, "留任沟通：张伟",
                   {"zh-CN": "留任沟通：张伟", "en": "Retention conversation: 张伟"}))
        # Stored before titles were per language: both glued into one text.
        s.add(task(f"T-{en}", en, "Retention conversation / 留任沟通: 张伟"))

    def titles(rows: list[dict]) -> list[str]:
        return [row["title"] for row in rows]

    mine = (await api.get("/api/v1/tasks", params={"assignee": zh})).json()
    assert titles(mine) == ["留任沟通：张伟"]  # the assignee reads Chinese
    assert mine[0]["titles"] == {"zh-CN": "留任沟通：张伟", "en": "Retention conversation: 张伟"}
    asked = await api.get("/api/v1/tasks", params={"assignee": zh, "locale": "en"})
    assert titles(asked.json()) == ["Retention conversation: 张伟"]
    header = await api.get(f"/api/v1/tasks/T-{zh}", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert header.json()["title"] == "Retention conversation: 张伟"

    old = (await api.get(f"/api/v1/tasks/T-{en}")).json()
    assert old["title"] == "Retention conversation: 张伟"  # the assignee reads English
    assert old["titles"] == {"zh-CN": "留任沟通: 张伟", "en": "Retention conversation: 张伟"}
    assert (await api.get("/api/v1/tasks", params={"locale": "fr"})).status_code == 422
