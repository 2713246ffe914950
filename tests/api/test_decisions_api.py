"""`GET /api/v1/decisions` as HR queries it: why a rule fired for someone, or did not, by
rule, employee, time and result; bad filters are a 422 naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from .conftest import hire, make_token, week

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_decisions_by_rule_employee_time_and_result(api, factory, emp):
    other = f"{emp}x"
    events = [hire(emp), hire(other), *week(emp), *week(other, start=date(2026, 1, 12))]
    r = await api.post("/api/v1/events", json={"events": events})
    assert r.status_code == 200, r.text

    mine = (await api.get("/api/v1/decisions", params={"employee": emp})).json()
    # Newest first: the days after the one that tripped the rule met its weekly key.
    assert [d["result"] for d in mine][-1] == "fired"
    assert {d["result"] for d in mine[:-1]} == {"deduped"}
    fired = mine[-1]
    assert (fired["rule_id"], fired["rule_version"]) == ("overtime-care", 1)
    assert fired["dedupe_key"] == f"{emp}/2026-W02"
    # What the condition read: the fifth late departure tripped it, at 20 overtime hours.
    assert fired["inputs"] == {"profile.overtime_hours_7d": 20.0,
                               "profile.late_departures_7d": 5}
    assert {d["workflow_id"] for d in mine} == {f"rule/overtime-care/{emp}/2026-W02"}

    fired_only = (await api.get("/api/v1/decisions", params={
        "rule": "overtime-care", "result": "fired"})).json()
    assert {d["employee_id"] for d in fired_only} >= {emp, other}
    later = (await api.get("/api/v1/decisions", params={
        "employee": other, "since": "2026-01-17"})).json()
    assert later and all(d["occurred_at"] >= "2026-01-16T16:00" for d in later)
    assert (await api.get("/api/v1/decisions", params={"since": "1d"})).json() == []

    bad = await api.get("/api/v1/decisions", params={"result": "maybe"})
    assert bad.status_code == 422 and "result" in bad.text and "deduped" in bad.text
    bad = await api.get("/api/v1/decisions", params={"since": "last tuesday"})
    assert bad.status_code == 422 and "since" in bad.text

    producer = make_token(factory, ["events:write"])
    refused = await api.get("/api/v1/decisions",
                            headers={"Authorization": f"Bearer {producer}"})
    assert refused.status_code == 403


async def test_impact_per_rule_through_the_api(api, factory):
    listed = (await api.get("/api/v1/impact")).json()
    assert [(i["rule_id"], i["metric"], i["kind"]) for i in listed] == [
        ("overtime-care", "attendance.day_closed.overtime_hours", "observation")]
    assert set(listed[0]["acted"]) == {"people", "before", "after", "change", "sd"}
    assert (await api.get("/api/v1/impact", params={"rule": "nope"})).json() == []
    producer = make_token(factory, ["events:write"])
    refused = await api.get("/api/v1/impact", headers={"Authorization": f"Bearer {producer}"})
    assert refused.status_code == 403
