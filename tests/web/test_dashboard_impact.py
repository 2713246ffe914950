"""The dashboard's impact per rule as HR reads it: before and after for the people a rule
acted on, said plainly to be an observation; with held-out people, an experiment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.store.models import Firing

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

FIRED = datetime.now(UTC).replace(microsecond=0) - timedelta(weeks=3)


def days(emp: str, before: float, after: float) -> list[dict]:
    out = []
    for offset in range(-20, 20, 2):
        at = FIRED + timedelta(days=offset)
        out.append({"id": f"imp-{emp}-{offset}", "type": "attendance.day_closed",
                    "employee_id": emp, "occurred_at": at.isoformat(),
                    "data": {"day": at.date().isoformat(), "clock_in": at.isoformat(),
                             "clock_out": at.isoformat(),
                             "overtime_hours": 6.0 if offset == 0 else
                             before if offset < 0 else after}})
    return out


def fired(emp: str, status: str) -> Firing:
    return Firing(rule_id="overtime-care", dedupe_key=f"imp/{emp}", rule_digest="d",
                  workflow_id=f"rule/overtime-care/imp/{emp}", event_id=f"imp-{emp}-0",
                  employee_id=emp, status=status, context={})


async def test_impact_is_an_observation_until_people_are_held_out(console, factory):
    with factory.begin() as s:
        ingest(s, days("A1", 4, 2) + days("A2", 4, 3.5) + days("C1", 4, 4), RuleIndex([]))
        s.add_all([fired("A1", "started"), fired("A2", "started")])
    await login(console, "hr")
    console.cookies.set("wendu_lang", "en")
    (found,) = (await console.get("/console/api/dashboard")).json()["impact"]
    assert (found["rule_id"], found["kind"], found["held_out"]) == (
        "overtime-care", "observation", None)
    assert (found["acted"]["people"], found["acted"]["before"], found["acted"]["after"],
            found["acted"]["change"]) == (2, 4.0, 2.75, -1.25)
    page = (await console.get("/console/dashboard")).text
    row = page.split('data-rule="overtime-care"')[1].split("</tr>")[0]
    assert "(observation)" in row and "Overtime hours per day" in row and "-1.25" in row
    assert "(lower is better)" in row
    assert "it is not a controlled experiment" in page
    assert "holdout: 10%" in page and 'id="impact-experiment"' not in page

    with factory.begin() as s:  # C1 matched too, and was held out: nothing reached them
        s.add(fired("C1", "held_out"))
    board = (await console.get("/console/api/dashboard")).json()
    (found,) = board["impact"]
    assert found["kind"] == "experiment"
    assert sum(board["firings"]["overtime-care"]) == 2  # the held-out one reached nobody
    assert (found["held_out"]["people"], found["held_out"]["change"]) == (1, 0.0)
    assert found["difference"] == -1.25 and found["ci"] is None  # one held out: no interval
    page = (await console.get("/console/dashboard")).text
    row = page.split('data-rule="overtime-care"')[1].split("</tr>")[0]
    assert "(experiment)" in row and "too few held out yet" in row
    assert 'id="impact-experiment"' in page and 'id="impact-observation"' not in page
    console.cookies.set("wendu_lang", "zh-CN")
    assert "对照实验" in (await console.get("/console/dashboard")).text
