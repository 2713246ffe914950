"""POST /api/v1/events against a real Temporal dev server (no worker: workflows stay running)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import Client, WorkflowExecutionStatus

from wendu.store.models import Event, Firing, Profile

from .conftest import attendance, hire, wait_started, week

pytestmark = pytest.mark.asyncio(loop_scope="session")


def count(factory, model) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


async def rule_workflows_for(temporal: Client, emp: str) -> list[str]:
    """Ids of RuleWorkflows whose id names the employee (visibility is eventually consistent,
    so callers describe by id first; this is the cross-check that no other id was started)."""
    query = f'WorkflowType = "RuleWorkflow" AND WorkflowId STARTS_WITH "rule/overtime-care/{emp}"'
    return [wf.id async for wf in temporal.list_workflows(query)]


async def test_an_overtime_week_starts_exactly_one_rule_workflow(api, temporal, factory, emp):
    events = [hire("M1"), hire(emp, manager_id="M1"), *week(emp)]
    r = await api.post("/api/v1/events", json={"events": events})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [e["status"] for e in results] == ["accepted"] * 8
    fired = [(i, f) for i, e in enumerate(results) for f in e["fired"]]
    wid = f"rule/overtime-care/{emp}/2026-W02"
    assert [(i, f["rule_id"], f["dedupe_key"], f["workflow_id"], f["status"])
            for i, f in fired] == [(6, "overtime-care", f"{emp}/2026-W02", wid, "queued")]

    # The answer came at the commit; the background starter starts the workflow just after.
    row = await wait_started(factory, wid)
    assert (row.status, row.workflow_id, row.error, row.attempts) == ("started", wid, None, 1)
    desc = await temporal.get_workflow_handle(wid).describe()
    assert desc.workflow_type == "RuleWorkflow"
    assert desc.status == WorkflowExecutionStatus.RUNNING
    assert count(factory, Firing) == 1

    # The same events again: all duplicates, nothing fired, no new workflow run.
    again = (await api.post("/api/v1/events", json={"events": events})).json()["results"]
    assert {e["status"] for e in again} == {"duplicate"}
    assert not any(e["fired"] or e["already_fired"] for e in again)
    # A new day in the same ISO week matches again but has fired already.
    sunday = attendance(emp, date(2026, 1, 11))
    r = await api.post("/api/v1/events", json=sunday)
    assert r.status_code == 200
    [result] = r.json()["results"]
    assert result["status"] == "accepted" and result["fired"] == []
    assert [f["workflow_id"] for f in result["already_fired"]] == [wid]

    assert (await temporal.get_workflow_handle(wid).describe()).run_id == desc.run_id
    assert count(factory, Firing) == 1
    assert await rule_workflows_for(temporal, emp) == [wid]


async def test_a_single_event_object_is_accepted(api, factory, emp):
    assert (await api.post("/api/v1/events", json=hire(emp))).status_code == 200
    r = await api.post("/api/v1/events", json=attendance(emp, date(2026, 1, 5)))
    assert r.status_code == 200
    assert r.json() == {"results": [{"id": f"att-{emp}-2026-01-05", "status": "accepted",
                                     "fired": [], "already_fired": [], "stale": []}]}
    with factory() as s:
        assert s.get(Profile, emp).facts["overtime_hours_7d"] == 4.0


async def test_a_repeated_id_in_one_batch_is_a_duplicate(api, factory, emp):
    e = attendance(emp, date(2026, 1, 5))
    changed = {**e, "data": {**e["data"], "overtime_hours": 9.0}}
    r = await api.post("/api/v1/events", json={"events": [hire(emp), e, changed]})
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted", "duplicate"]
    with factory() as s:
        assert s.get(Event, e["id"]).data["overtime_hours"] == 4.0
        assert s.get(Profile, emp).facts["overtime_hours_7d"] == 4.0


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda e: e["data"].update(overtime_hours="lots"), "events[3].data.overtime_hours",
         "valid number"),
        (lambda e: e["data"].pop("day"), "events[3].data.day", "required"),
        (lambda e: e["data"].update(overtime_hourz=2), "events[3].data.overtime_hourz",
         "Extra inputs"),
        (lambda e: e.update(type="attendance.closed"), "events[3].type", "unknown event type"),
        (lambda e: e.update(occurred_at="2026-01-05T10:00:00"), "events[3].occurred_at",
         "timezone"),
        (lambda e: e.pop("employee_id"), "events[3].employee_id", "required"),
        (lambda e: e.update(colour="red"), "events[3].colour", "Extra inputs"),
    ],
)
async def test_an_invalid_event_names_the_field_and_nothing_is_stored(
    api, factory, emp, mutate, field, message
):
    events = week(emp)
    mutate(events[3])
    r = await api.post("/api/v1/events", json={"events": events})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["field"] for d in detail] == [field]
    assert message in detail[0]["msg"]
    assert count(factory, Event) == 0 and count(factory, Profile) == 0


async def test_a_batch_over_1000_events_is_refused(api, factory, emp):
    start = date(2023, 1, 1)
    events = [attendance(emp, start + timedelta(days=i)) for i in range(1001)]
    r = await api.post("/api/v1/events", json={"events": events})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "events"
    assert "1000" in r.json()["detail"][0]["msg"]
    assert count(factory, Event) == 0
    r = await api.post("/api/v1/events", json={"events": events[:1000]})
    assert r.status_code == 200 and len(r.json()["results"]) == 1000


async def test_a_body_that_is_not_an_event_is_refused(api):
    r = await api.post("/api/v1/events", json=[1, 2])
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("event", "field", "message"),
    [
        (lambda emp: hire(emp, commute_km=-3), "events[1].data.commute_km",
         "greater than or equal to 0"),
        (lambda emp: hire(emp, monthly_pay=0, pay_band_median=12000),
         "events[1].data.monthly_pay", "greater than 0"),
        (lambda emp: hire(emp, level=0), "events[1].data.level", "greater than or equal to 1"),
        (lambda emp: {"id": f"leave-{emp}", "type": "leave.taken", "employee_id": emp,
                      "occurred_at": "2026-01-05T09:00:00+08:00",
                      "data": {"day": "2026-01-05", "days": 2}},
         "events[1].data.days", "less than or equal to 1"),
    ],
)
async def test_an_impossible_employment_or_leave_value_is_refused_by_name(
    api, factory, emp, event, field, message
):
    r = await api.post("/api/v1/events", json={"events": [hire("M1"), event(emp)]})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["field"] for d in detail] == [field]
    assert message in detail[0]["msg"]
    assert count(factory, Event) == 0


async def test_employment_facts_and_leave_reach_the_profile(api, factory, emp):
    events = [
        hire("M1"),
        hire(emp, manager_id="M1", monthly_pay=9000, pay_band_median=10000, commute_km=12.5,
             level=2, last_promoted_on="2024-07-01"),
        {"id": f"leave-{emp}", "type": "leave.taken", "employee_id": emp,
         "occurred_at": "2025-01-20T09:00:00+08:00",
         "data": {"day": "2025-01-20", "days": 0.5, "kind": "annual"}},
    ]
    r = await api.post("/api/v1/events", json={"events": events})
    assert r.status_code == 200, r.text
    with factory() as s:
        facts = s.get(Profile, emp).facts
    assert (facts["pay_ratio"], facts["commute_km"], facts["level"]) == (0.9, 12.5, 2)
    assert facts["last_promoted_on"] == "2024-07-01"
    assert (facts["manager_changes_1y"], facts["leave_days_90d"]) == (0, 0.5)
