"""The console in a real browser (Debian's Chromium driven by Playwright) against the app
served by uvicorn, with a real Temporal dev server and worker behind the task actions.

Each main page is also photographed into screenshots/ for people reviewing a change.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.live_server import serving
from wendu.api.app import create_app
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Task, TaskAction
from wendu.store.models_accounts import AuditLog
from wendu.tokens import create_token
from wendu.worker import build_worker

from .conftest import PASSWORD, seed_company

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# The rule page's YAML is in a CodeMirror editor, which keeps the form's textarea in sync.
EDITOR = "#editor .CodeMirror"


async def source_of(page) -> str:
    await page.locator(EDITOR).wait_for()  # made once the page's scripts have run
    return await page.evaluate(f"document.querySelector('{EDITOR}').CodeMirror.getValue()")


async def type_source(page, text: str) -> None:
    await page.locator(EDITOR).wait_for()
    await page.evaluate(f"(t) => document.querySelector('{EDITOR}').CodeMirror.setValue(t)", text)

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run)
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path: Path):
    # One backend is enough here: the access matrix covers both; this is about the browser.
    from wendu.store.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'wendu.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def surveys(emp: str) -> list[dict]:
    now = datetime.now(UTC)
    return [{"id": f"s-{emp}-{i}", "type": "survey.response", "employee_id": emp,
             "occurred_at": (now - timedelta(days=30 - i)).isoformat(),
             "data": {"survey_id": f"pulse-{i}", "satisfaction": score}}
            for i, score in enumerate([4.5, 4.5, 4.5, 2.0])]


async def wait_for_tasks(factory, subjects: set[str]) -> dict[str, Task]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with factory() as s:
            found = {t.subject_employee_id: t for t in s.scalars(select(Task))}
        if subjects <= set(found):
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"tasks for {subjects} were never created")


@pytest.fixture
async def served(settings, temporal, factory):
    shutil.copy(EXAMPLES_DIR / "satisfaction_checkin.yaml", settings.rules_dir)
    shutil.copy(EXAMPLES_DIR / "_groups.yaml", settings.rules_dir)
    seed_company(factory, tasks=False)
    with factory.begin() as s:
        token = create_token(s, "producer", ["events:write"])
    app = create_app(settings, temporal_client=temporal)
    async with serving(app) as base, build_worker(temporal, settings, factory):
        import httpx

        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            events = [e for emp in ("A1", "A2", "C1") for e in surveys(emp)]
            r = await http.post("/api/v1/events", json={"events": events},
                                headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
        await wait_for_tasks(factory, {"A1", "A2", "C1"})
        yield base


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


async def sign_in(browser, base: str, username: str):
    page = await browser.new_page(locale="en-US")
    await page.goto(f"{base}/console/tasks")
    assert "/console/login" in page.url  # signed out: the login page first
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/console/tasks")
    return page


async def test_manager_acknowledges_a_task_and_hr_fixes_and_dry_runs_a_rule(
    served, browser, factory
):
    base = served
    page = await sign_in(browser, base, "m1")
    todo = page.locator("#todo li.task")
    # m1 manages A1 and A2 (named, not by id); the check-in about C1 is m2's and is not shown.
    assert sorted(await todo.locator(".about a").all_inner_texts()) == ["Name A1", "Name A2"]
    await page.locator("details.why").first.click()
    why = await page.locator("details.why").first.inner_text()
    # The values the rule read, in words; its condition (profile.satisfaction_drop >= 1) is HR's.
    assert "satisfaction drop" in why and "profile." not in why
    await page.screenshot(path=SHOTS / "my-tasks.png", full_page=True)

    first = todo.first
    task_id = await first.get_attribute("data-task-id")
    await page.evaluate("window.notReloaded = true")
    await first.locator("button[data-action=acknowledge]").click()
    # The list updates in place, without a reload: the acknowledged task leaves it.
    await page.locator(f'li[data-task-id="{task_id}"]').wait_for(state="detached")
    assert await page.locator("#todo li.task").count() == 1
    assert await page.evaluate("window.notReloaded") is True
    with factory() as s:
        acted = s.scalars(select(TaskAction).where(TaskAction.task_id == task_id)).all()
        audited = s.scalars(select(AuditLog).where(AuditLog.target_id == task_id)).all()
    assert [(a.action, a.actor_id) for a in acted] == [("acknowledge", "M1")]
    assert [(a.actor, a.action, a.before, a.after["status"]) for a in audited] == [
        ("m1", "task.acknowledge", {"status": "open"}, "acknowledged")]
    await page.goto(f"{base}/console/inbox")
    await page.screenshot(path=SHOTS / "inbox.png", full_page=True)
    await page.close()

    page = await sign_in(browser, base, "hr")
    await page.goto(f"{base}/console/rules")
    assert await page.locator("#rules tr[data-rule-id]").count() == 2
    await page.screenshot(path=SHOTS / "rules.png", full_page=True)
    await page.click("text=Overtime care")  # the rule by its title; its id is beside it
    original = await source_of(page)
    broken = original.replace("profile.overtime_hours_7d > 20", "profile.overtime_hourz_7d > 20")
    line = broken.splitlines().index(
        next(x for x in broken.splitlines() if "overtime_hourz_7d" in x)) + 1
    await type_source(page, broken)
    await page.click("button[value=check]")
    problem = page.locator(f'#problems li[data-line="{line}"]')
    assert "did you mean 'overtime_hours_7d'" in await problem.inner_text()
    assert await page.locator('#problems li[data-line="1"]').count() == 0
    await page.screenshot(path=SHOTS / "rule-with-error.png", full_page=True)

    event = {"type": "attendance.day_closed", "employee_id": "A1",
             "occurred_at": "2026-11-27T23:30:00+08:00",
             "data": {"day": "2026-11-27", "clock_in": "2026-11-27T09:00:00+08:00",
                      "clock_out": "2026-11-27T23:30:00+08:00", "overtime_hours": 25}}
    await type_source(page, original)
    await page.fill("textarea[name=event]", json.dumps(event))
    await page.click("button[value=dry_run]")
    assert await page.locator("#verdict").inner_text() == "Would fire"
    assert await page.locator("#dedupe-key").inner_text() == "A1/2026-W48"
    sent = await page.locator("ul.messages").inner_text()
    assert "→ Name M1 (M1)" in sent and "→ Name A1 (A1)" in sent and "25" in sent
    await page.screenshot(path=SHOTS / "rule-dry-run.png", full_page=True)
    with factory() as s:  # a dry run starts nothing
        assert s.scalars(select(Task).where(Task.rule_id == "overtime-care")).all() == []

    await page.goto(f"{base}/console/dashboard")
    # Three tasks were assigned; the one the manager acknowledged is in progress, not done:
    # all three are still open.
    assert await page.locator("#fig-open strong").inner_text() == "3"
    await page.screenshot(path=SHOTS / "dashboard.png", full_page=True)
    await page.goto(f"{base}/console/employees/A1")
    assert await page.locator("svg.chart").count() == 1  # satisfaction; no attendance yet
    await page.screenshot(path=SHOTS / "profile.png", full_page=True)
    await page.close()
