"""The decision log on a rule's console page: each match, fired or why not, with the version
and the data its conditions read."""

from __future__ import annotations

import json
import re

import pytest

from wendu.rules.ruleset import EXAMPLES_DIR
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
    # The values its conditions read, in words, the rule's own names on hover.
    assert ('<span title="profile.overtime_hours_7d">overtime in the last 7 days</span> 22 hours'
            in fired)
    assert "deduped (fired before)" in rows[0][1]
    assert "GET /api/v1/decisions?rule=overtime-care" in page


async def test_a_dry_run_says_when_the_person_is_held_out(console):
    source = (EXAMPLES_DIR / "overtime_care.yaml").read_text().replace(
        "steps:", "holdout: 50%\nsteps:")
    csrf = await login(console, "hr")

    def heavy(emp: str) -> dict:
        return {**late_day(0, emp), "data": {**late_day(0, emp)["data"], "overtime_hours": 25}}

    async def dry_run(emp: str) -> dict:
        r = await console.post("/console/api/rules/check", headers={"X-CSRF-Token": csrf},
                               json={"source": source, "event": heavy(emp)})
        assert r.status_code == 200, r.text
        return r.json()["dry_run"]

    held, acted = await dry_run("A1"), await dry_run("C1")  # A1 is in this rule's holdout
    assert (held["fired"], held["held_out"]) == (True, True)
    assert (acted["fired"], acted["held_out"]) == (True, False)
    console.cookies.set("wendu_lang", "en")
    page = await console.post("/console/rules/overtime-care/upload", data={
        "csrf": csrf, "source": source, "intent": "dry_run", "event": json.dumps(heavy("A1"))})
    assert 'id="held-out"' in page.text and "nothing is sent to anyone" in page.text
