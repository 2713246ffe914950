"""The console at phone width (390 px) in a real browser: no page scrolls sideways, the
header stays on one line behind a menu button, touch targets are 44 px high; and the rule
editor (CodeMirror) marks a problem at its line.

Every page is photographed at 390 and 1280 px, in Chinese and English, into screenshots/.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.live_server import serving
from wendu.api.app import create_app
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Employee, Rule

from .conftest import PASSWORD, seed_company
from .test_browser import ARGS, CHROMIUM, SHOTS, db_url  # noqa: F401 - one backend here too

pytestmark = pytest.mark.asyncio(loop_scope="session")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MANAGER_PAGES = ["/console/tasks", "/console/tasks/T1", "/console/inbox",
                 "/console/employees/A1", "/console/preferences", "/console/employees",
                 "/console/all-tasks"]
HR_PAGES = [*MANAGER_PAGES, "/console/rules", "/console/rules/overtime-care",
            "/console/rules/overtime-care/backtest", "/console/rules/overtime-care/versions",
            "/console/rules/new", "/console/dashboard", "/console/employees/A1/feedback",
            "/console/audit", "/console/firings", "/console/notifications",
            "/console/rules/overtime-care/runs"]
# What a finger taps: buttons, and the links of the header and of lists.
TARGETS = ("button, summary, a.button, header a, main li a, main td a, nav.tabs a, "
           "select, input:not([type=hidden]):not([type=checkbox]):not([type=radio])")
MEASURE = """(targets) => {
  const small = [...document.querySelectorAll(targets)].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.height < 43.5
      && getComputedStyle(el).visibility !== 'hidden';
  }).map((el) => `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" `
                 + `${Math.round(el.getBoundingClientRect().height)}px`);
  return {width: document.documentElement.scrollWidth, small: small.slice(0, 8),
          header: Math.round(document.querySelector('header.top').getBoundingClientRect().height)};
}"""


def history(emp: str) -> list[dict]:
    """Surveys and late days, so the profile has both charts."""
    now = datetime.now(UTC)
    events = [{"id": f"s-{emp}-{i}", "type": "survey.response", "employee_id": emp,
               "occurred_at": (now - timedelta(days=30 - i)).isoformat(),
               "data": {"survey_id": f"pulse-{i}", "satisfaction": score}}
              for i, score in enumerate([4.5, 4.0, 3.5, 2.0])]
    for d in range(6):
        day = (now - timedelta(days=6 - d)).date().isoformat()
        events.append({"id": f"a-{emp}-{d}", "type": "attendance.day_closed",
                       "employee_id": emp, "occurred_at": f"{day}T23:00:00+08:00",
                       "data": {"day": day, "clock_in": f"{day}T09:00:00+08:00",
                                "clock_out": f"{day}T23:00:00+08:00", "overtime_hours": 4}})
    return events


@pytest.fixture
async def site(settings, temporal, factory):
    shutil.copy(EXAMPLES_DIR / "_groups.yaml", settings.rules_dir)
    seed_company(factory)
    with factory.begin() as s:
        ingest(s, history("A1"), RuleIndex([]))
        s.get(Employee, "A1").name = "王小明"  # a long CJK name in the header of a card
    async with serving(create_app(settings, temporal_client=temporal)) as base:
        yield base


@pytest.fixture(scope="module")
async def chromium():
    from playwright.async_api import async_playwright

    SHOTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def signed_in(chromium, base: str, username: str, lang: str, viewport: dict):
    context = await chromium.new_context(viewport=viewport, locale=lang)
    await context.add_cookies([{"name": "wendu_lang", "value": lang, "url": base}])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404
            and not r.url.endswith("/favicon.ico") else None)
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/console/tasks")
    return context, page


def shot_name(path: str, width: int, lang: str, who: str) -> str:
    slug = path.removeprefix("/console/").replace("/", "-") or "home"
    return f"{width}-{lang}-{who}-{slug}.png"


async def test_every_page_fits_a_phone_without_sideways_scrolling(site, chromium):
    problems = []
    for who, pages in (("m1", MANAGER_PAGES), ("hr", HR_PAGES)):
        for lang in ("zh-CN", "en"):
            context, page = await signed_in(chromium, site, who, lang, PHONE)
            for path in pages:
                r = await page.goto(f"{site}{path}")
                assert r.status == 200, (who, path, r.status)
                seen = await page.evaluate(MEASURE, TARGETS)
                if seen["width"] > PHONE["width"]:
                    problems.append(f"{who} {lang} {path}: page is {seen['width']} px wide")
                if seen["small"]:
                    problems.append(f"{who} {lang} {path}: under 44 px: {seen['small']}")
                if seen["header"] > 60:  # one line: the brand and the menu button
                    problems.append(f"{who} {lang} {path}: header {seen['header']} px high")
                await page.screenshot(path=SHOTS / shot_name(path, 390, lang, who),
                                      full_page=True)
            # The menu button opens the links, each a full-height touch target.
            await page.click("header .menu-toggle")
            assert await page.locator("header nav a[href='/console/inbox']").is_visible()
            assert page.errors == [], page.errors  # no CSP violation, no script error
            await context.close()
    assert not problems, "\n".join(problems)

    # The same pages at desktop width keep the header's links in view, with no menu button.
    for lang in ("zh-CN", "en"):
        context, page = await signed_in(chromium, site, "hr", lang, DESKTOP)
        for path in HR_PAGES:
            await page.goto(f"{site}{path}")
            assert await page.evaluate("document.documentElement.scrollWidth") <= 1280, path
            await page.screenshot(path=SHOTS / shot_name(path, 1280, lang, "hr"),
                                  full_page=True)
        assert not await page.locator("header .menu-toggle").is_visible()
        assert await page.locator("header nav a[href='/console/audit']").is_visible()
        await context.close()


async def test_the_rule_editor_marks_a_problem_at_its_line_and_saves_what_was_typed(
    site, chromium, factory, settings
):
    context, page = await signed_in(chromium, site, "hr", "en", PHONE)
    await page.goto(f"{site}/console/rules/overtime-care")
    editor = page.locator(".CodeMirror")
    await editor.wait_for()
    assert not await page.locator("textarea[name=source]").is_visible()  # the editor, instead
    original = await page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    broken = original.replace("profile.overtime_hours_7d > 20", "profile.overtime_hourz_7d > 20")
    line = next(n for n, x in enumerate(broken.splitlines(), 1) if "overtime_hourz_7d" in x)
    await page.evaluate("(t) => document.querySelector('.CodeMirror').CodeMirror.setValue(t)",
                        broken)
    await page.click("button[value=check]")
    await page.locator(".CodeMirror .problem-marker.error").wait_for()
    # In the editor: a marker in the gutter of that line, the message right under it.
    marked = page.locator(".CodeMirror-code > div:has(.problem-marker.error)")
    assert await marked.count() == 1
    assert await marked.locator(".CodeMirror-linenumber").inner_text() == str(line)
    inline = marked.locator(".problem-inline.error")
    assert "did you mean 'overtime_hours_7d'" in await inline.inner_text()
    assert await page.locator("ol.source").count() == 0  # no read-only copy any more
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=SHOTS / "390-en-hr-rule-problem-in-editor.png", full_page=True)
    # Typing checks again: with the typo fixed, the mark goes away without a click.
    await page.evaluate("(t) => document.querySelector('.CodeMirror').CodeMirror.setValue(t)",
                        original)
    await page.locator("#no-errors").wait_for()
    assert await page.locator(".CodeMirror .problem-marker, .problem-inline").count() == 0

    # Typed into the editor (not set by script), then saved: the form posts the editor's text.
    fixed = original.replace("version: 1", "version: 2").replace("> 20", "> 22")
    typed = fixed.replace("> 22", "> 2")
    at = next((n, x.index("> 2") + 3) for n, x in enumerate(typed.splitlines()) if "> 2 " in x)
    await page.evaluate("""([t, line, ch]) => {
        const cm = document.querySelector('.CodeMirror').CodeMirror;
        cm.setValue(t); cm.focus(); cm.setCursor({line, ch}); }""", [typed, *at])
    await page.keyboard.type("2")
    await page.click("button[value=save]")
    await page.wait_for_url(f"{site}/console/rules/overtime-care?saved=1")
    with factory() as s:
        assert s.get(Rule, "overtime-care").version == 2
    assert (settings.rules_dir / "overtime_care.yaml").read_bytes() == fixed.encode()

    # A dry run's result is in view after the click.
    await page.fill("textarea[name=event]", json.dumps({
        "type": "attendance.day_closed", "employee_id": "A2",
        "data": {"day": "2026-11-27", "clock_in": "2026-11-27T09:00:00+08:00",
                 "clock_out": "2026-11-27T12:00:00+08:00", "overtime_hours": 0}}))
    await page.click("button[value=dry_run]")
    verdict = page.locator("#verdict")
    await verdict.wait_for()
    assert await verdict.inner_text() == "Would not fire"
    assert await verdict.is_visible() and await page.evaluate(
        "document.querySelector('#dry-run').getBoundingClientRect().top < innerHeight")
    assert "profile.overtime_hours_7d = " in await page.locator("#conditions").inner_text()
    with factory() as s:
        assert s.scalars(select(Rule.id)).all() == ["overtime-care"]

    # Disabling asks why first; the browser will not send the form without a reason.
    await page.click("summary#toggle")
    await page.click("#confirm-disable")
    assert await page.locator("#rule-state").inner_text() == "Enabled"
    await page.fill("#disable-reason", "paused during the audit")
    await page.click("#confirm-disable")
    await page.wait_for_url(f"{site}/console/rules/overtime-care")
    assert await page.locator("#rule-state").inner_text() == "Disabled"
    assert page.errors == [], page.errors
    await context.close()
