"""Every role against every console route, pages and JSON alike: 200 where allowed, 403 where
the page or action is not for the role, 404 where even existence is private."""

from __future__ import annotations

import pytest

from .conftest import ACCOUNTS, login

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROLES = list(ACCOUNTS)  # hr, bp, m1, m2, boss, a1
HR = {"hr": 200, "bp": 200}


def expect(default: int, **codes: int) -> dict[str, int]:
    return {role: codes.get(role, default) for role in ROLES}


# (method, path, expected status per user). Users: hr (hr_admin), bp (hrbp, no employee),
# m1 manages A1 and A2, m2 manages C1, boss manages m1 and m2 and has T3 (about A2)
# escalated to them, a1 is an employee.
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/console/tasks", expect(200)),
    ("GET", "/console/inbox", expect(200)),
    ("GET", "/console/rules", expect(403, **HR)),
    ("GET", "/console/rules/overtime-care", expect(403, **HR)),
    ("GET", "/console/rules/no-such-rule", expect(403, hr=404, bp=404)),
    ("GET", "/console/rules/new", expect(403, **HR)),
    ("GET", "/console/dashboard", expect(403, **HR)),
    ("GET", "/console/employees/A1", expect(404, **HR, m1=200, a1=403)),
    ("GET", "/console/employees/A2", expect(404, **HR, m1=200, boss=200, a1=403)),
    ("GET", "/console/employees/C1", expect(404, **HR, m2=200, a1=403)),
    ("GET", "/console/employees/NOPE", expect(404, a1=403)),
    ("GET", "/console/employees/A1/feedback", expect(403, **HR)),
    ("GET", "/console/api/tasks/T1", expect(404, **HR, m1=200)),
    ("GET", "/console/api/tasks/T2", expect(404, **HR, m2=200)),
    ("GET", "/console/api/tasks/T3", expect(404, **HR, m1=200, boss=200)),
    ("GET", "/console/api/tasks/NOPE", expect(404)),
    ("GET", "/console/api/employees/A1", expect(404, **HR, m1=200, a1=403)),
    ("GET", "/console/api/employees/A1/feedback?purpose=a+complaint", expect(403, **HR)),
    ("GET", "/console/api/rules", expect(403, **HR)),
    ("GET", "/console/api/dashboard", expect(403, **HR)),
    ("POST", "/console/api/rules/overtime-care/state?enabled=true", expect(403, hr=200)),
    ("POST", "/console/api/notifications/1/read", expect(404, a1=200)),
    ("POST", "/console/api/notifications/2/read", expect(404, m1=200)),
    # Seen but not theirs to snooze (403) vs not seen at all (404).
    ("POST", "/console/api/tasks/T1/actions", expect(404, m1=200, hr=403, bp=403)),
]


async def test_every_role_on_every_route(console):
    wrong = []
    for user in ROLES:
        csrf = await login(console, user)
        for method, path, codes in MATRIX:
            kwargs = {}
            if method == "POST":
                kwargs = {"headers": {"X-CSRF-Token": csrf},
                          "json": {"action": "snooze", "hours": 1}}
            r = await console.request(method, path, **kwargs)
            if r.status_code != codes[user]:
                wrong.append(f"{user} {method} {path}: {r.status_code}, expected {codes[user]}")
    assert wrong == []


async def test_signed_out_pages_go_to_login_and_json_routes_answer_401(console):
    console.cookies.clear()
    for path in ("/", "/console/"):
        assert (await console.get(path, follow_redirects=True)).url.path == "/console/login"
    for method, path, _ in MATRIX:
        r = await console.request(method, path)
        if "/console/api/" in path:
            assert r.status_code == 401, path
        else:
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/console/login?next=")


async def test_lists_show_only_what_the_role_may_see(console):
    await login(console, "m1")
    assert sorted(t["id"] for t in (await console.get("/console/api/tasks")).json()) == [
        "T1", "T3"]
    await login(console, "a1")
    assert (await console.get("/console/api/tasks")).json() == []
    assert [n["id"] for n in (await console.get("/console/api/notifications")).json()] == [1]
    await login(console, "bp")
    assert len((await console.get("/console/api/tasks")).json()) == 3


async def test_raw_feedback_only_for_hr_and_each_view_is_audited(console, factory):
    from sqlalchemy import select

    from wendu.store.models_accounts import AuditLog

    await login(console, "m1")
    profile = await console.get("/console/employees/A1")
    assert profile.status_code == 200 and "shouts" not in profile.text
    assert "shouts" not in (await console.get("/console/api/employees/A1")).text
    await login(console, "hr")
    # First the purpose: nothing is shown, nothing audited, until HR says why.
    ask = await console.get("/console/employees/A1/feedback")
    assert 'id="purpose-form"' in ask.text and "shouts" not in ask.text
    r = await console.get("/console/api/employees/A1/feedback")
    assert r.status_code == 422 and "purpose" in r.text
    r = await console.get("/console/api/employees/A1/feedback", params={"purpose": " x "})
    assert r.status_code == 422 and "purpose: say why" in r.json()["detail"]
    page = await console.get("/console/employees/A1/feedback",
                             params={"purpose": "Looking into  a complaint"})
    assert "my lead shouts at me" in page.text and "Looking into a complaint" in page.text
    with factory() as s:
        views = s.scalars(select(AuditLog).where(AuditLog.action == "feedback.view")).all()
    assert [(v.actor, v.target_id, v.after, v.note) for v in views] == [
        ("hr", "A1", {"events": ["fb-A1"]}, "Looking into a complaint")]


async def test_a_task_shows_why_and_the_profile_and_dashboard_show_the_figures(console):
    await login(console, "m1")
    console.cookies.set("wendu_lang", "en")
    tasks = (await console.get("/console/tasks")).text
    # The why in words: the rule's condition is HR's, the manager reads the value it saw and
    # which way each factor pushed the score.
    assert "profile.overtime_hours_28d &gt; 40" not in tasks
    assert ('<span title="profile.overtime_hours_28d">overtime in the last 28 days</span> '
            '50 hours' in tasks)
    assert ('<span title="overtime_hours_28d">overtime in the last 28 days</span> '
            '50 hours · raises the risk' in tasks)
    csrf = await login(console, "m1")
    r = await console.post("/console/api/tasks/T1/actions", headers={"X-CSRF-Token": csrf},
                           json={"action": "snooze", "hours": 4})
    assert r.status_code == 200
    assert 'data-task-id="T1"' not in (await console.get("/console/tasks")).text
    profile = (await console.get("/console/api/employees/A1")).json()
    assert [(s["scorer"], s["value"]) for s in profile["scores"]] == [("attrition", 0.71)]
    assert [t["id"] for t in profile["tasks"]] == ["T1"]
    await login(console, "hr")
    board = (await console.get("/console/api/dashboard")).json()
    assert (board["open_tasks"], board["overdue_tasks"]) == (3, 0)
    assert list(board["firings"]) == ["x"] and sum(board["firings"]["x"]) == 1
    assert board["training_completion_rate"] == 0.0


async def test_an_acknowledged_task_still_counts_as_open_until_it_is_done(console, factory):
    from wendu.store.models import Task

    with factory.begin() as s:
        s.get(Task, "T1").status = "acknowledged"  # in progress: not done yet
    await login(console, "hr")
    assert (await console.get("/console/api/dashboard")).json()["open_tasks"] == 3
    with factory.begin() as s:
        s.get(Task, "T2").status = "completed"
    assert (await console.get("/console/api/dashboard")).json()["open_tasks"] == 2


async def test_the_dashboard_shows_what_the_rules_recorded(console, factory):
    from wendu.store.models import Outcome

    with factory.begin() as s:
        for n, value in enumerate([1.0, 0.0, 1.0]):
            s.add(Outcome(rule_id="needs-guide-chat", workflow_id=f"rule/g/{n}",
                          step_id="steps[3]", employee_id="A1", metric="guides_pushed",
                          value=value))
    await login(console, "hr")
    board = (await console.get("/console/api/dashboard")).json()
    assert board["outcomes"] == [{"rule_id": "needs-guide-chat", "metric": "guides_pushed",
                                  "count": 3, "total": 2.0, "mean": 0.667}]
    console.cookies.set("wendu_lang", "en")
    page = (await console.get("/console/dashboard")).text
    assert "Rule outcomes (in the period)" in page and "guides_pushed" in page
