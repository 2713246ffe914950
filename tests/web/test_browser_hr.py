"""HR's tools in a real browser: the rule page fills in its run history from script files
only (CSP allows no inline script), "select all" ticks every open task, and choosing dismiss
makes the reason required before anything is posted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.live_server import serving
from wendu.api.app import create_app
from wendu.store.models import Task
from wendu.store.models_accounts import AuditLog

from .conftest import seed_company
from .test_browser import db_url  # noqa: F401 - one backend is enough for the browser
from .test_browser_phone import DESKTOP, chromium, signed_in  # noqa: F401
from .test_hr_tools import _firing, _note

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_run_history_loads_on_the_rule_page_and_bulk_dismiss_asks_why(
        settings, temporal, factory, chromium):  # noqa: F811
    seed_company(factory)
    rule = "overtime-care"
    with factory.begin() as s:
        s.add_all([_firing(rule, "sent", "started", 1), _firing(rule, "quiet", "started", 2),
                   _note(10, f"rule/{rule}/sent", "delivered")])
    async with serving(create_app(settings, temporal_client=temporal)) as base:
        context, page = await signed_in(chromium, base, "hr", "en", DESKTOP)
        await page.goto(f"{base}/console/rules/{rule}")
        counts = page.locator("#run-history #run-counts")
        await counts.wait_for(timeout=15000)
        assert "Sent: 1" in await counts.inner_text()
        assert "Nothing done: 1" in await counts.inner_text()

        await page.goto(f"{base}/console/all-tasks")
        await page.check("#select-all")
        assert await page.locator("input[name=task_id]:checked").count() == 3
        await page.check("#bulk-actions input[value=dismiss]")
        await page.click("#bulk-actions button[type=submit]")
        assert page.url == f"{base}/console/all-tasks"  # the empty reason stopped the post
        assert not await page.evaluate("document.querySelector('input[name=reason]')"
                                       ".checkValidity()")
        assert page.errors == [], page.errors  # no CSP violation, no script error
        await context.close()
    with factory() as s:
        assert {t.status for t in s.scalars(select(Task))} == {"open"}
        assert not s.scalars(select(AuditLog).where(AuditLog.action.like("task.%"))).all()
