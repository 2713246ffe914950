"""The decision log on a rule's console page: each match, fired or why not, with the version
and the data its conditions read."""

from __future__ import annotations

import re

import pytest

from wendu.tokens import create_token

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")


def late_day(n: int, emp: str) -> dict:
    day = f"2026-11-{23 + n:02d}"
    return {"id": f"dl-{emp}-{n}", "type": "attendance.day_closed", "employee_id": emp,
            "occurred_at": f"{day}T22:30:00+08:00",
            "data": {"day": day, "clock_in": f"{day}T09:00:00+08:00",
                     "clock_out": f"{day}T22:30:00+08:00", "overtime_hours": 11}}


async def test_the_rule_page_lists_its_latest_decisions(console, factory):
    with factory.begin() as s:
        token = create_token(s, "producer", ["events:write"])
    r = await console.post("/api/v1/events", headers={"Authorization": f"Bearer {token}"},
                           json={"events": [late_day(n, "A1") for n in range(3)]})
    assert r.status_code == 200, r.text
    await login(console, "bp")  # HR reads it; changing rules is not needed
    console.cookies.set("wendu_lang", "en")
    page = (await console.get("/console/rules/overtime-care")).text
    rows = re.findall(r'<tr data-decision-id="\d+" data-result="(\w+)">(.*?)</tr>', page, re.S)
    assert [result for result, _ in rows] == ["deduped", "fired"]  # newest first
    fired = rows[1][1]
    assert "A1" in fired and "fired" in fired and "v1" in fired
    assert "profile.overtime_hours_7d = 22.0" in fired
    assert "deduped (fired before)" in rows[0][1]
    assert "GET /api/v1/decisions?rule=overtime-care" in page
