"""The console's backtest as HR uses it: a draft beside the live version over the stored
history, run in a thread with its progress shown, counted by week, nothing sent; mistakes on
the form, one replay at a time."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from wendu.api.web_backtest import Job
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Firing, Notification

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIVE = (EXAMPLES_DIR / "overtime_care.yaml").read_text()
# The draft only speaks up past 30 hours: a late week of 4 hours a day no longer counts.
DRAFT = LIVE.replace("version: 1", "version: 2").replace(
    "profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5",
    "profile.overtime_hours_7d > 30")
RULE = "/console/rules/overtime-care"


def late_weeks(emp: str, weeks: int) -> list[dict]:
    """Weekdays of the last `weeks` weeks, 4 hours over and out at 22:30 (Shanghai)."""
    today = datetime.now(UTC).date()
    out = []
    for back in range(weeks * 7, 0, -1):
        d = today - timedelta(days=back)
        if d.weekday() >= 5:
            continue
        at = datetime(d.year, d.month, d.day, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
        out.append({"id": f"bt-{emp}-{d}", "type": "attendance.day_closed", "employee_id": emp,
                    "occurred_at": at.isoformat(),
                    "data": {"day": d.isoformat(), "clock_in": (at - timedelta(hours=13))
                             .isoformat(), "clock_out": at.isoformat(), "overtime_hours": 4}})
    return out


async def finished(console, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = (await console.get(f"/console/api/backtests/{job_id}")).json()
        if body["finished"]:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError("the backtest never finished")


async def test_a_draft_beside_the_live_version_by_week(console, factory):
    with factory.begin() as s:
        ingest(s, late_weeks("A1", 3) + late_weeks("A2", 3), RuleIndex([]))
        sent_before = s.scalar(select(func.count()).select_from(Notification))
    csrf = await login(console, "hr")
    console.cookies.set("wendu_lang", "en")
    rule_page = (await console.get(RULE)).text
    assert f'href="{RULE}/backtest" id="backtest-link"' in rule_page
    form = await console.get(f"{RULE}/backtest")
    assert form.status_code == 200 and "profile.overtime_hours_7d &gt; 20" in form.text

    started = await console.post(f"{RULE}/backtest",
                                 data={"csrf": csrf, "source": DRAFT, "since": "30d"})
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[1]
    body = await finished(console, job_id)
    assert body["error"] is None and body["done"] == body["total"] > 0
    live, draft = body["report"]["versions"]
    assert (live["label"], live["version"], draft["label"], draft["version"]) == (
        "live", 1, "draft", 2)
    assert live["people"] == 2 and live["fired"] >= 4 and draft["fired"] == 0
    assert live["channels"]["inapp"] == 2 * live["fired"]  # the manager and the employee

    shown = await console.get(started.headers["location"])
    assert "Refresh" not in shown.headers  # done: the page stops reloading itself
    page = shown.text
    fired_row = re.search(r'<tr data-row="fired"><td>Would fire</td><td>(\d+)</td><td>(\d+)</td>',
                          page)
    assert fired_row and fired_row.groups() == (str(live["fired"]), "0")
    weeks = re.findall(r'<tr data-week="([\d-]+W\d+)"><td>[^<]+</td><td>(\d+)</td><td>0</td>',
                       page)
    assert len(weeks) >= 2 and sum(int(n) for _, n in weeks) == live["fired"]
    assert "Nothing was sent." in page
    with factory() as s:  # a backtest starts nothing and sends nothing
        assert s.scalar(select(func.count()).select_from(Firing).where(
            Firing.event_id.like("bt-%"))) == 0
        assert s.scalar(select(func.count()).select_from(Notification)) == sent_before


async def test_mistakes_on_the_form_and_one_replay_at_a_time(console):
    csrf = await login(console, "hr")
    console.cookies.set("wendu_lang", "en")
    broken = await console.post(f"{RULE}/backtest", data={
        "csrf": csrf, "source": DRAFT.replace("> 30", "> > 30"), "since": "30d"})
    assert broken.status_code == 422 and 'id="backtest-problems"' in broken.text
    assert "overtime-care.yaml:" in broken.text
    window = await console.post(f"{RULE}/backtest",
                                data={"csrf": csrf, "source": DRAFT, "since": "forever"})
    assert window.status_code == 422 and "since:" in window.text

    busy = Job("busy", "other-rule", "sarah", "90d", datetime.now(UTC), total=10, done=4)
    console.app.state.backtests = {"busy": busy}
    refused = await console.post(f"{RULE}/backtest",
                                 data={"csrf": csrf, "source": DRAFT, "since": "30d"})
    assert refused.status_code == 409
    assert "a backtest of other-rule is running (40%)" in refused.text
    progress = await console.get("/console/rules/other-rule/backtest/busy")
    assert progress.headers["Refresh"] == "1" and "Replaying events 4 / 10 (40%)" in progress.text
    assert (await console.get(f"{RULE}/backtest/nope")).status_code == 404

    await login(console, "m1")
    assert (await console.get(f"{RULE}/backtest")).status_code == 403
