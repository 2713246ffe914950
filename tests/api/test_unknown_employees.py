"""Events about an employee Wendu has never heard of: kept, said so, listed for HR, folded
into the profile once the employee arrives; or refused when the setting says so."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from wendu.store.models import Event, Profile

from .conftest import ALL_SCOPES, attendance, hire, make_token, running_app

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_unknown_employee_is_kept_listed_and_folded_once_hired(api, factory, emp):
    days = [attendance(emp, date(2026, 1, 5)), attendance(emp, date(2026, 1, 6))]
    manager = hire(f"M{emp}")
    r = await api.post("/api/v1/events", json={"events": [*days, manager]})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == [
        "unknown_employee", "unknown_employee", "accepted"]

    listed = await api.get("/api/v1/events", params={"status": "unknown_employee"})
    assert listed.status_code == 200
    assert sorted(e["id"] for e in listed.json()) == sorted(d["id"] for d in days)
    assert {e["employee_id"] for e in listed.json()} == {emp}
    assert all("data" not in e for e in listed.json())  # the envelope only
    again = await api.post("/api/v1/events", json={"events": days})
    assert [x["status"] for x in again.json()["results"]] == ["duplicate", "duplicate"]

    # The hire arrives late (and dated before the attendance): the history is already folded.
    r = await api.post("/api/v1/events", json=hire(emp, manager_id=f"M{emp}"))
    assert r.json()["results"][0]["status"] == "accepted"
    listed = await api.get("/api/v1/events", params={"status": "unknown_employee"})
    assert listed.json() == []
    mine = await api.get("/api/v1/events", params={"employee": emp})
    assert {e["status"] for e in mine.json()} == {"accepted"} and len(mine.json()) == 3
    with factory() as s:
        facts = s.get(Profile, emp).facts
    assert facts["manager_id"] == f"M{emp}"
    assert facts["overtime_hours_7d"] == 8.0


async def test_unknown_employees_can_be_refused_instead(settings, temporal, factory, emp):
    settings.unknown_employees = "reject"
    async with running_app(settings, temporal, make_token(factory, ALL_SCOPES)) as api:
        day = attendance(emp, date(2026, 1, 5))
        r = await api.post("/api/v1/events", json={"events": [hire("M1"), day]})
        assert r.status_code == 422
        [error] = r.json()["detail"]
        assert error["field"] == "events[1].employee_id" and error["type"] == "unknown_employee"
        assert repr(emp) in error["msg"] and "employee.hired" in error["msg"]
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Event)) == 0
        # Announced in the same batch, even after its events, the employee is known.
        r = await api.post("/api/v1/events", json={"events": [day, hire(emp)]})
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"]


async def test_listing_events_needs_a_producer_or_admin_token(settings, temporal, factory):
    token = make_token(factory, ["notifications:read"])
    async with running_app(settings, temporal, token) as api:
        r = await api.get("/api/v1/events")
        assert r.status_code == 403 and "events:write" in r.json()["detail"]
    async with running_app(settings, temporal, make_token(factory, ["rules:admin"])) as api:
        assert (await api.get("/api/v1/events")).status_code == 200
