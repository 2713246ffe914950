"""The console's remaining words in the reader's language: chart axes, rules named by their
titles in the HR lists, the refusals the console shows, and the rule page's dry run."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.store.models import Firing, Task, utcnow
from wendu.worker import build_worker

from .conftest import login
from .test_console_task_states import _start_task

pytestmark = pytest.mark.asyncio(loop_scope="session")

ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")
ISO_WEEK = re.compile(r"\d{4}-W\d\d")


def _svgs(page: str) -> str:
    return "".join(re.findall(r"<svg class=\"chart\".*?</svg>", page, re.S))


async def test_chart_axes_read_as_days_and_weeks(console, factory):
    day = (utcnow() - timedelta(days=3)).date()
    with factory.begin() as s:
        ingest(s, [{"id": "ot-A1", "type": "attendance.day_closed", "employee_id": "A1",
                    "occurred_at": f"{day}T18:00:00+08:00",
                    "data": {"day": str(day), "clock_in": f"{day}T09:00:00+08:00",
                             "clock_out": f"{day}T21:00:00+08:00",
                             "overtime_hours": 3}},
                   {"id": "sv-A1", "type": "survey.response", "employee_id": "A1",
                    "occurred_at": f"{day}T10:00:00+08:00",
                    "data": {"survey_id": "pulse", "satisfaction": 4}}],
               RuleIndex([]))
    await login(console, "hr")
    console.cookies.set("wendu_lang", "zh-CN")
    profile = _svgs((await console.get("/console/employees/A1")).text)
    assert f">{day.month}月{day.day}日<" in profile, profile
    assert not ISO_DAY.search(profile), profile
    board = _svgs((await console.get("/console/dashboard")).text)
    week = day.isocalendar()[1]
    assert f">第 {week} 周<" in board, board
    for chart in re.findall(r"<svg.*?</svg>", board, re.S):  # one week: one label, not two
        assert chart.count(f">第 {week} 周<") <= 1, chart
    assert not ISO_WEEK.search(board), board
    console.cookies.set("wendu_lang", "en")
    board = _svgs((await console.get("/console/dashboard")).text)
    assert f">W{week}<" in board and not ISO_WEEK.search(board), board


async def test_hr_lists_name_rules_by_their_titles(console, factory):
    with factory.begin() as s:
        s.get(Task, "T2").rule_id = "overtime-care"
        s.add(Firing(rule_id="overtime-care", dedupe_key="C1", rule_digest="d",
                     workflow_id="rule/overtime-care/C1", employee_id="C1", status="started"))
    await login(console, "hr")
    console.cookies.set("wendu_lang", "zh-CN")
    firings = (await console.get("/console/firings")).text
    cell = '<a href="/console/rules/overtime-care">加班关怀</a> <small class="muted">overtime-care'
    assert cell in firings, firings
    assert '<option value="overtime-care">加班关怀</option>' in firings
    assert ">overtime-care</a>" not in firings
    tasks = (await console.get("/console/all-tasks")).text
    assert cell in tasks and ">overtime-care</a>" not in tasks
    console.cookies.set("wendu_lang", "en")
    assert ">Overtime care</a>" in (await console.get("/console/firings")).text


async def test_task_refusals_read_in_the_readers_language(console, temporal, settings, factory,
                                                         sc):
    async with build_worker(temporal, settings, factory):
        task_id = await _start_task(temporal, settings, sc)  # M1's, on a running workflow
        csrf = await login(console, "m1")
        console.cookies.set("wendu_lang", "zh-CN")
        post = {"headers": {"X-CSRF-Token": csrf}}
        r = await console.post(f"/console/api/tasks/{task_id}/actions",
                               json={"action": "dismiss"}, **post)
        assert r.status_code == 422 and r.json()["detail"] == "关闭任务需要填写原因", r.text
        r = await console.post(f"/console/api/tasks/{task_id}/actions",
                               json={"action": "undo"}, **post)
        assert r.status_code == 409 and "没有可撤销的操作" in r.json()["detail"], r.text
        console.cookies.set("wendu_lang", "en")
        r = await console.post(f"/console/api/tasks/{task_id}/actions",
                               json={"action": "dismiss"}, **post)
        assert r.json()["detail"] == "dismiss needs a reason"
    # HR's bulk action on a task whose workflow has ended says why per task, in words.
    with factory.begin() as s:
        s.get(Task, "T2").status = "completed"
    csrf = await login(console, "hr")
    console.cookies.set("wendu_lang", "zh-CN")
    r = await console.post("/console/all-tasks/bulk", data={
        "csrf": csrf, "action": "acknowledge", "task_id": ["T2", "T3"]})
    failed = re.findall(r'data-failed-task="[^"]+">([^<]*)<', r.text)
    assert len(failed) == 2, r.text[-2000:]
    assert any("这项任务已处于「已完成」状态" in f for f in failed), failed
    assert any("这项任务已经结束" in f for f in failed), failed
    assert not any(re.search(r"task \w+ is", f) for f in failed), failed
    assert any(f.startswith("Task T2: ") for f in failed), failed
