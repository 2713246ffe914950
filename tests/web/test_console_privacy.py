"""What only HR sees: pay and origin on profiles and in a task's "why", the audit log (with
filters by person, actor and action), and raw feedback only after HR has said why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.store.models import Firing, ScoreRecord

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def paid(factory):
    """A1's pay and hometown arrive; T1's score and firing name pay as a factor."""
    with factory.begin() as s:
        ingest(s, [{"id": "upd-A1", "type": "employee.updated", "employee_id": "A1",
                    "occurred_at": "2026-11-21T09:00:00+08:00",
                    "data": {"hometown_city": "Chengdu", "monthly_pay": 18000,
                             "pay_band_median": 24000, "commute_km": 31.5}}], RuleIndex([]))
        score = s.scalars(select(ScoreRecord).where(ScoreRecord.workflow_id == "rule/x/T1")).one()
        score.factors = [*score.factors, {"name": "pay_ratio", "value": 0.75,
                                          "contribution": 0.4, "direction": "increases"}]
        firing = s.scalars(select(Firing).where(Firing.workflow_id == "rule/x/T1")).one()
        firing.context = {"firing": {"matched": ["profile.pay_ratio < 0.8"],
                                     "values": {"profile.pay_ratio": 0.75}}}


async def test_pay_and_origin_are_for_hr_a_manager_sees_what_to_act_on(console, paid):
    await login(console, "m1")
    console.cookies.set("wendu_lang", "en")
    profile = (await console.get("/console/api/employees/A1")).json()
    assert not {"pay_ratio", "hometown_city", "commute_km"} & set(profile["facts"])
    assert "overtime_hours_7d" in profile["facts"]
    [attrition] = profile["scores"]
    pay = next(f for f in attrition["factors"] if f["name"] == "pay_ratio")
    assert pay["hidden"] is True and "value" not in pay
    for page in (await console.get("/console/employees/A1")).text, (
            await console.get("/console/tasks")).text:
        assert "Chengdu" not in page and "0.75" not in page and "31.5" not in page
    tasks = (await console.get("/console/tasks")).text
    assert "pay against the band median</span> <small class=\"muted\">(HR only)</small>" in tasks
    why = (await console.get("/console/api/tasks/T1")).json()["why"]
    assert why["values"] == {} and why["matched"] == []

    await login(console, "hr")
    profile = (await console.get("/console/api/employees/A1")).json()
    assert (profile["facts"]["pay_ratio"], profile["facts"]["hometown_city"]) == (0.75, "Chengdu")
    assert (await console.get("/console/api/tasks/T1")).json()["why"]["values"] == {
        "profile.pay_ratio": 0.75}


async def test_hr_reads_the_audit_log_by_person_actor_and_action(console):
    await login(console, "hr")
    await console.get("/console/employees/A1/feedback", params={"purpose": "a complaint"})
    csrf = await login(console, "m1")
    await console.post("/console/api/tasks/T1/actions", headers={"X-CSRF-Token": csrf},
                       json={"action": "snooze", "hours": 4})
    assert (await console.get("/console/audit")).status_code == 403
    assert (await console.get("/console/api/audit")).status_code == 403

    await login(console, "hr")
    about_a1 = (await console.get("/console/api/audit", params={"person": "A1"})).json()
    assert [(r["actor"], r["action"], r["note"]) for r in about_a1] == [
        ("m1", "task.snooze", None), ("hr", "feedback.view", "a complaint")]
    by_m1 = (await console.get("/console/api/audit", params={"actor": "m1"})).json()
    assert {r["action"] for r in by_m1} == {"user.login", "task.snooze"}
    tasks = (await console.get("/console/api/audit", params={"action": "task"})).json()
    assert [r["target_id"] for r in tasks] == ["T1"]
    assert (await console.get("/console/api/audit", params={"person": "C1"})).json() == []

    console.cookies.set("wendu_lang", "zh-CN")
    page = (await console.get("/console/audit", params={"person": "A1"})).text
    assert "审计日志" in page and "查看目的: a complaint" in page
    assert page.count("data-audit-id=") == 2 and "UTC" not in page
