"""A message's task link: sign in first, land on that task's page, and nowhere else."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.web.conftest import PASSWORD, login, login_form
from wendu.api.web_auth import _safe_next
from wendu.store.models import Task


async def test_a_task_link_signs_in_then_opens_that_task(console, factory):
    with factory.begin() as s:
        s.get(Task, "T1").body = "Name M1，您好：\n\n请与 Name A1 进行一次 1:1 沟通。"
    console.cookies.clear()
    first = await console.get("/console/tasks/T1")
    assert first.status_code == 303
    target = urlsplit(first.headers["location"])
    assert target.path == "/console/login"
    assert parse_qs(target.query)["next"] == ["/console/tasks/T1"]

    signed_in = await login_form(console, username="m1", password=PASSWORD,
                                 next="/console/tasks/T1")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/tasks/T1"
    page = await console.get("/console/tasks/T1")
    assert page.status_code == 200
    # What to do, in full, with the due time in the reader's words and the task's buttons.
    assert "请与 Name A1 进行一次 1:1 沟通。" in page.text
    assert re.search(r'id="task-due">\w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2}<', page.text)
    assert 'data-post="/console/api/tasks/T1/actions"' in page.text
    # Its "why": the attrition factor by the name a person reads, the key on hover.
    assert '<span title="overtime_hours_28d">overtime in the last 28 days</span>' in page.text


async def test_a_task_page_is_only_for_those_who_may_see_the_task(console):
    await login(console, "m2")
    assert (await console.get("/console/tasks/T1")).status_code == 404
    assert (await console.get("/console/tasks/nope")).status_code == 404
    await login(console, "hr")
    assert (await console.get("/console/tasks/T1")).status_code == 200


async def test_the_label_catalog_is_served_to_the_console(console):
    await login(console, "a1")
    zh = (await console.get("/console/api/labels?locale=zh-CN")).json()
    assert zh["topic"]["workload"] == "工作量" and zh["scorecard"]["good"] == "良好"
    en = (await console.get("/console/api/labels")).json()  # a1 reads English
    assert en["fact"]["tenure_days"] == "time with the company"


@pytest.mark.parametrize("next_path", [
    "//evil.example/console", "/\\evil.example", "https://evil.example/console/tasks",
    "/console/../api/v1/tasks", "/consolex", "/console/tasks\r\nSet-Cookie: x=1",
    "javascript:alert(1)", "", None,
])
def test_sign_in_never_sends_anyone_off_the_console(next_path):
    assert _safe_next(next_path) == "/console/tasks"


@pytest.mark.parametrize("next_path", ["/console/tasks/T-7c60b61402035b6a", "/console",
                                       "/console/inbox?fragment=1"])
def test_sign_in_returns_to_the_console_page_asked_for(next_path):
    assert _safe_next(next_path) == next_path
