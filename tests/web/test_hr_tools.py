"""HR's everyday tools through the app: the employee directory (a manager sees only their
reports), filtered lists and their audited CSV exports, bulk acknowledge/dismiss through the
task workflow, mark-all-read, a rule's run history with outcomes, the dashboard's period and
its drill-down to the firings behind a number."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from wendu.store.models import Decision, Employee, Firing, Notification, Task, utcnow
from wendu.store.models_accounts import AuditLog
from wendu.tokens import create_token
from wendu.worker import build_worker

from .conftest import login
from .test_console_task_states import _start_task

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _rows(page: str, attr: str) -> list[str]:
    return re.findall(rf'data-{attr}="([^"]+)"', page)


async def test_the_directory_finds_people_and_a_manager_sees_only_their_reports(
        console, factory):
    with factory.begin() as s:
        s.execute(update(Employee).where(Employee.id.in_(("A1", "A2"))).values(
            department="研发部"))
        s.execute(update(Employee).where(Employee.id == "C1").values(department="销售部"))
    await login(console, "hr")
    page = (await console.get("/console/employees", params={"q": "name a1"})).text
    assert _rows(page, "employee-id") == ["A1"]
    assert 'href="/console/employees/A1"' in page and "研发部" in page
    found = (await console.get("/console/employees", params={"q": "研发"})).text
    assert sorted(_rows(found, "employee-id")) == ["A1", "A2"]
    assert _rows((await console.get("/console/employees", params={"q": "c1"})).text,
                 "employee-id") == ["C1"]

    await login(console, "m1")
    mine = (await console.get("/console/employees")).text
    assert sorted(_rows(mine, "employee-id")) == ["A1", "A2"]
    none = (await console.get("/console/employees", params={"q": "C1"})).text
    assert _rows(none, "employee-id") == [] and 'id="directory-none"' in none
    assert "销售部" not in none  # not even another team's department in the filter
    assert (await console.get("/console/api/employees", params={"q": "c1"})).json() == []

    await login(console, "a1")
    assert (await console.get("/console/employees")).status_code == 403


async def test_a_csv_export_is_excel_ready_localized_filtered_and_audited(console, factory):
    await login(console, "hr")
    console.cookies.set("wendu_lang", "zh-CN")
    r = await console.get("/console/all-tasks", params={"employee": "A1", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, rows = table[0], table[1:]
    assert header[:4] == ["编号", "标题", "规则", "状态"] and "负责人" in header
    assert [row[0] for row in rows] == ["T1"]
    assert rows[0][3] == "待处理" and "Name A1" in rows[0]
    with factory() as s:
        logged = s.scalars(select(AuditLog).where(AuditLog.action == "export.tasks")).all()
    assert len(logged) == 1 and logged[0].actor == "hr"
    assert logged[0].after == {"filters": {"employee": "A1"}, "rows": 1}

    notes = await console.get("/console/notifications", params={"format": "csv"})
    text = notes.content.decode("utf-8-sig")
    assert "消息标题" in text and "Note 1" in text and "hello" not in text  # no bodies
    firings = await console.get("/console/firings", params={"format": "csv", "rule": "x"})
    lines = list(csv.reader(io.StringIO(firings.content.decode("utf-8-sig"))))
    assert "结果" in lines[0] and lines[1][lines[0].index("结果")] == "已送达"  # opened T1
    # The page offers the same filters and the export link carries them.
    page = (await console.get("/console/all-tasks", params={"employee": "A1"})).text
    assert _rows(page, "task-id") == ["T1"]
    assert 'href="/console/all-tasks?employee=A1&amp;format=csv"' in page
    await login(console, "m1")
    assert (await console.get("/console/firings", params={"format": "csv"})).status_code == 403


async def test_bulk_dismiss_needs_a_reason_and_audits_each_task(
        console, temporal, settings, factory, sc):
    async with build_worker(temporal, settings, factory):
        ids = [await _start_task(temporal, settings, sc, subject=who) for who in ("A1", "C1")]
        acked = await _start_task(temporal, settings, sc, subject="A2")
        csrf = await login(console, "hr")
        form = {"csrf": csrf, "action": "dismiss", "task_id": ids, "back": "status=open"}
        r = await console.post("/console/all-tasks/bulk", data={**form, "reason": " "})
        assert r.status_code == 422 and "Dismissing needs a reason" in r.text
        with factory() as s:
            assert {t.status for t in s.scalars(select(Task).where(Task.id.in_(ids)))} == {
                "open"}
            assert not s.scalars(select(AuditLog).where(AuditLog.action == "task.dismiss")).all()

        r = await console.post("/console/all-tasks/bulk",
                               data={**form, "reason": "duplicate of the weekly check"})
        assert r.status_code == 200 and "2 task(s) done" in r.text, r.text[-2000:]
        r = await console.post("/console/all-tasks/bulk",
                               data={"csrf": csrf, "action": "acknowledge", "task_id": [acked]})
        assert r.status_code == 200 and "1 task(s) done" in r.text
        with factory() as s:
            statuses = {t.id: t.status for t in s.scalars(
                select(Task).where(Task.id.in_([*ids, acked])))}
            logged = s.scalars(select(AuditLog).where(
                AuditLog.action.in_(("task.dismiss", "task.acknowledge")))).all()
        assert statuses == {ids[0]: "dismissed", ids[1]: "dismissed", acked: "acknowledged"}
        by_task = {a.target_id: a for a in logged}
        assert sorted(by_task) == sorted([*ids, acked]) and len(logged) == 3
        assert by_task[ids[0]].after == {"status": "dismissed",
                                         "comment": "duplicate of the weekly check"}
        assert by_task[ids[0]].note == "bulk dismiss of 2 tasks"
        assert by_task[acked].before == {"status": "open"}
        # A manager has no bulk actions.
        m1 = await login(console, "m1")
        r = await console.post("/console/all-tasks/bulk",
                               data={"csrf": m1, "action": "acknowledge", "task_id": ["T1"]})
        assert r.status_code == 403
        # Who is HR is the console's to say: a token cannot claim it, even an unbound one.
        with factory.begin() as s:
            token = create_token(s, "hris", ["tasks:act"], actor="test")
        r = await console.post(f"/api/v1/tasks/{acked}/actions",
                               json={"action": "dismiss", "actor_id": "H", "comment": "x",
                                     "by_hr": True},
                               headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and "by_hr" in r.json()["detail"]


async def test_mark_all_read_empties_only_the_users_unread(console, factory):
    with factory.begin() as s:
        s.add(Notification(id=3, key="n/3", workflow_id="w", step_id="s", recipient_id="A1",
                           channel="inapp", template="t", locale="en", subject="Note 3",
                           body="again"))
    csrf = await login(console, "a1")
    page = (await console.get("/console/inbox")).text
    assert 'id="mark-all-read"' in page and page.count("note unread") == 2
    r = await console.post("/console/api/notifications/read-all",
                           headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"marked": 2}
    page = (await console.get("/console/inbox")).text
    assert "note unread" not in page and 'id="mark-all-read"' not in page
    with factory() as s:
        assert s.get(Notification, 2).read_at is None  # M1's message is M1's to read
    r = await console.post("/console/api/notifications/read-all")
    assert r.status_code == 403  # no CSRF token


def _firing(rule: str, key: str, status: str, days_ago: float, **kw) -> Firing:
    return Firing(rule_id=rule, dedupe_key=key, rule_digest="d", workflow_id=f"rule/{rule}/{key}",
                  employee_id="A1", status=status, context={},
                  created_at=utcnow() - timedelta(days=days_ago), **kw)


def _note(nid: int, wid: str, status: str) -> Notification:
    # Ids given: the seeded rows took theirs without moving PostgreSQL's sequence.
    return Notification(id=nid, key=f"n/{uuid.uuid4().hex}", workflow_id=wid, step_id="s",
                        rule_id="overtime-care", recipient_id="M1", channel="inapp",
                        template="t", locale="en", subject="s", body="b", status=status)


async def test_run_history_outcomes_and_the_dashboard_period_drills_down(console, factory):
    rule = "overtime-care"
    with factory.begin() as s:
        s.add_all([_firing(rule, "sent", "started", 1), _firing(rule, "quiet", "started", 2),
                   _firing(rule, "broken", "failed", 3, error="template missing"),
                   _firing(rule, "bounced", "started", 20),
                   _firing(rule, "held", "held_out", 2),
                   _note(10, f"rule/{rule}/sent", "delivered"),
                   _note(11, f"rule/{rule}/bounced", "failed"),
                   Decision(rule_id=rule, rule_version=1, rule_digest="d", employee_id="A1",
                            event_id="e", dedupe_key="sent", workflow_id=f"rule/{rule}/sent",
                            result="deduped", inputs={}, scores={},
                            occurred_at=utcnow() - timedelta(hours=3))])
    await login(console, "hr")
    runs = (await console.get(f"/console/rules/{rule}/runs", params={"fragment": 1})).text
    counts = dict(re.findall(r'<li data-outcome="(\w+)">.*?<strong>(\d+)</strong>', runs))
    assert counts == {"sent": "1", "failed": "2", "nothing": "1", "deduped": "1",
                      "held_out": "1"}
    assert "template missing" in runs and "Nothing done" in runs
    page = (await console.get(f"/console/rules/{rule}")).text
    assert f'data-load="/console/rules/{rule}/runs?fragment=1"' in page
    listing = (await console.get("/console/rules")).text
    row = listing.split(f'data-rule-id="{rule}"')[1].split("</tr>")[0]
    assert f'href="/console/firings?rule={rule}&amp;outcome=sent">1</a>' in row  # of 3 in 7d

    with factory() as s:
        ids = {f.dedupe_key: str(f.id) for f in s.scalars(select(Firing).where(
            Firing.rule_id == rule))}
    today = (utcnow() + timedelta(hours=8)).date()  # H's zone: Asia/Shanghai
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    recent = (await console.get("/console/dashboard", params=week)).text
    wide = (await console.get("/console/dashboard", params={
        "from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()})).text

    def figure(html: str, name: str) -> tuple[str, str]:
        found = re.search(rf'id="fig-{name}">.*?<a href="([^"]+)"[^>]*>(\d+)</a>', html)
        assert found, html[:3000]
        return found.group(1).replace("&amp;", "&"), found.group(2)

    # T1's firing (rule x, created now) counts too; held-out ones never do.
    assert figure(recent, "fired")[1] == "4" and figure(wide, "fired")[1] == "5"
    assert figure(recent, "acted")[1] == "2"  # overtime-care's "sent", and x's task T1
    link, _ = figure(recent, "fired")
    listed = (await console.get(link)).text
    assert sorted(_rows(listed, "firing-id")) == sorted(
        [ids["sent"], ids["quiet"], ids["broken"], *_x_firing(factory)])
    failed_link, n = figure(wide, "failed-firings")
    assert n == "1" and _rows((await console.get(failed_link)).text, "firing-id") == [
        ids["broken"]]
    bad = (await console.get("/console/dashboard", params={"from": "2026-12-09",
                                                           "to": "2026-12-01"})).text
    assert 'id="range-error"' in bad


def _x_firing(factory) -> list[str]:
    with factory() as s:
        return [str(i) for i in s.scalars(select(Firing.id).where(Firing.rule_id == "x"))]
