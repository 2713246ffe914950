"""The console in the reader's language and time zone: names rather than ids, local times
rather than UTC, task titles in the page's language, statuses and channels in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from wendu.store.models import Notification, Task
from wendu.store.models_accounts import TaskSnooze, User

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

UTC_TEXT = re.compile(r"UTC|\d{4}-\d\d-\d\dT\d\d:\d\d")
# 03:30 UTC is 11:30 in Shanghai, where the seeded company works.
DUE = datetime(2026, 12, 16, 3, 30, tzinfo=UTC)


def seeded(factory) -> None:
    with factory.begin() as s:
        t1 = s.get(Task, "T1")
        t1.title = "留任沟通：Name A1"
        t1.titles = {"zh-CN": "留任沟通：Name A1", "en": "Retention conversation: Name A1"}
        t1.due_at = DUE
        t1.body = "First line\nsecond line"
        # Stored before titles were per language: both glued into one text.
        s.get(Task, "T3").title = "Retention conversation / 留任沟通: Name A2"
        s.add(Notification(id=3, key="n/3", workflow_id="w", step_id="s", recipient_id="M1",
                           channel="inapp", template="t", locale="zh-CN", subject="提醒",
                           body="第一行\n第二行 <b>", created_at=DUE))


async def test_a_zh_task_page_names_the_employee_and_shows_a_local_time(console, factory):
    seeded(factory)
    await login(console, "m1")
    console.cookies.set("wendu_lang", "zh-CN")
    page = (await console.get("/console/tasks/T1")).text
    main = page.split("<main>", 1)[1]
    assert "<h1>留任沟通：Name A1</h1>" in main
    assert 'id="task-due">2026年12月16日（周三）11:30<' in main
    assert ">Name A1</a>" in main and ">A1<" not in main
    assert not UTC_TEXT.search(main), UTC_TEXT.search(main)
    assert "First line<br>second line" in main
    listed = (await console.get("/console/tasks")).text
    assert "截止 2026年12月16日（周三）11:30" in listed and "关于" in listed
    assert not UTC_TEXT.search(listed.split("<main>", 1)[1])
    assert "lina" not in listed and "· 主管<" in listed  # the role in words, not `manager`

    console.cookies.set("wendu_lang", "en")
    page = (await console.get("/console/tasks/T1")).text
    assert "<h1>Retention conversation: Name A1</h1>" in page
    assert 'id="task-due">Wed 16 Dec 2026, 11:30<' in page and "留任" not in page


async def test_old_glued_titles_read_in_one_language(console, factory):
    seeded(factory)
    await login(console, "boss")
    for lang, title in (("zh-CN", "留任沟通: Name A2"), ("en", "Retention conversation: Name A2")):
        console.cookies.set("wendu_lang", lang)
        listed = (await console.get("/console/tasks")).text
        assert f'<a href="/console/tasks/T3">{title}</a>' in listed


async def test_the_inbox_keeps_line_breaks_and_a_snooze_says_until_when(console, factory):
    seeded(factory)
    await login(console, "m1")
    console.cookies.set("wendu_lang", "zh-CN")
    inbox = (await console.get("/console/inbox")).text
    assert "第一行<br>第二行 &lt;b&gt;" in inbox  # escaped, one line each
    assert "2026年12月16日（周三）11:30" in inbox and " UTC" not in inbox
    with factory.begin() as s:
        user_id = s.query(User.id).filter(User.username == "m1").scalar()
        s.add(TaskSnooze(task_id="T1", user_id=user_id, until=DUE + timedelta(days=400)))
    snoozed = (await console.get("/console/tasks", params={"list": "snoozed"})).text
    assert "推迟到 2028年1月20日（周四）11:30" in snoozed


async def test_a_profile_and_the_audit_log_speak_words_not_keys(console, factory):
    seeded(factory)
    await login(console, "hr")
    console.cookies.set("wendu_lang", "zh-CN")
    profile = (await console.get("/console/employees/A1")).text.split("<main>", 1)[1]
    assert "上级：Name M1" in profile and "2024年1月8日" in profile
    assert "<th title=\"tenure_days\">司龄</th>" in profile
    assert "as_of" not in profile and "None" not in profile and "{}" not in profile
    assert "离职风险" in profile  # the attrition score, by its name
    assert not UTC_TEXT.search(profile)
    audit = (await console.get("/console/audit")).text.split("<main>", 1)[1]
    assert '>创建账号</td>' in audit and ">user.create<" not in audit
    assert "角色: 主管" in audit and "员工: Name M1" in audit
