"""The console's rule check and dry run: huge expressions refused at once, the work kept off
the event loop so the API answers meanwhile, and a budget after which the console stops
waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from wendu.api import web_dryrun
from wendu.rules.ruleset import EXAMPLES_DIR

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

SOURCE = (EXAMPLES_DIR / "overtime_care.yaml").read_text()
WHEN = "profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5"
CHECK = "/console/api/rules/check"
EVENT = {"type": "attendance.day_closed", "employee_id": "A1",
         "data": {"day": "2026-11-27", "clock_in": "2026-11-27T09:00:00+08:00",
                  "clock_out": "2026-11-27T23:00:00+08:00", "overtime_hours": 10}}


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


async def _check(console, csrf: str, source: str, event: dict | None = None):
    return await console.post(CHECK, json={"source": source, "event": event},
                              headers={"X-CSRF-Token": csrf})


async def test_huge_constants_are_problems_on_their_lines_not_a_frozen_api(console):
    csrf = await login(console, "bp")  # may check rules, may not change them
    source = SOURCE.replace(WHEN, "10 ** 10000000 > 0").replace(
        "steps:\n", "steps:\n  - set: {v: \"'a' * 10**9\"}\n")
    before = time.monotonic()
    r = await _check(console, csrf, source, EVENT)
    assert time.monotonic() - before < 5
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False and "dry_run" not in body
    found = {(p["line"], p["message"].split(":")[0]) for p in body["problems"]}
    assert found == {(_line_of(source, "10 ** 10000000"), "'**' would be too large"),
                     (_line_of(source, "10**9"), "'*' would be too large")}


async def test_a_value_too_large_at_run_time_is_the_dry_runs_error(console):
    csrf = await login(console, "bp")
    source = SOURCE.replace(WHEN, "('a' * ((event.overtime_hours | int) * 100000000)) | length > 0")
    r = await _check(console, csrf, source, EVENT)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    dry = r.json()["dry_run"]
    assert dry["ok"] is False and dry["fired"] is False
    assert any("would be too large" in e for e in dry["errors"]), dry["errors"]


async def test_healthz_answers_while_a_slow_check_runs(console, monkeypatch):
    csrf = await login(console, "bp")
    real = web_dryrun.load

    def slow_load(*args):
        time.sleep(1.5)  # a check that takes its time, as a large rule might
        return real(*args)

    monkeypatch.setattr(web_dryrun, "load", slow_load)

    async def healthz_time() -> float:
        await asyncio.sleep(0.2)  # the check is under way
        before = time.monotonic()
        assert (await console.get("/healthz")).status_code in (200, 503)
        return time.monotonic() - before

    check, took = await asyncio.gather(_check(console, csrf, SOURCE), healthz_time())
    assert check.status_code == 200 and check.json()["ok"] is True
    assert took < 1.0
    # The rule page's own form too.
    form = console.post("/console/rules/overtime-care/upload",
                        data={"csrf": csrf, "source": SOURCE, "intent": "check"})
    page, took = await asyncio.gather(form, healthz_time())
    assert page.status_code == 200 and 'id="no-errors"' in page.text
    assert took < 1.0


async def test_a_check_past_its_budget_is_reported_not_waited_for(console, monkeypatch):
    csrf = await login(console, "bp")
    monkeypatch.setattr(web_dryrun, "BUDGET_SECONDS", 0.3)
    monkeypatch.setattr(web_dryrun, "load", lambda *args: time.sleep(2))
    before = time.monotonic()
    r = await _check(console, csrf, SOURCE)
    assert time.monotonic() - before < 1.5
    assert r.json()["ok"] is False
    (problem,) = r.json()["problems"]
    assert "checking the rule took longer than 0.3 s" in problem["message"]
    # The console form says the same on the rule's page.
    r = await console.post("/console/rules/overtime-care/upload",
                           data={"csrf": csrf, "source": SOURCE, "intent": "check"})
    assert r.status_code == 422 and "took longer than 0.3 s" in r.text
