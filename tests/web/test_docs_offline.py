"""/docs and /redoc in a real browser with the network cut off: every request that is not to
the local server is aborted, and both pages still render the API (their scripts, styles and
icons come from the package), under their Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.live_server import serving
from wendu.api.app import create_app

from .test_browser import SHOTS, browser, db_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio(loop_scope="session")

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


async def offline_page(browser, base: str):  # noqa: F811 - the fixture imported above
    """A page whose requests anywhere but `base` fail, and what it tried and complained of."""
    page = await browser.new_page(locale="en-US")
    seen = {"blocked": [], "errors": []}

    async def only_local(route) -> None:
        if route.request.url.startswith(base + "/"):
            await route.continue_()
        else:
            seen["blocked"].append(route.request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_local)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    return page, seen


async def test_docs_and_redoc_render_with_the_network_cut_off(settings, temporal,
                                                              browser):  # noqa: F811
    async with serving(create_app(settings, temporal_client=temporal)) as base:
        page, seen = await offline_page(browser, base)
        await page.goto(f"{base}/docs")
        operations = page.locator(".opblock")
        await operations.first.wait_for(timeout=30_000)
        paths = await page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/v1/events" in {p.replace("\u200b", "") for p in paths}
        assert await operations.count() >= 15
        assert not any(p.startswith("/console") for p in paths)
        # Opening an operation shows its documented answers, 401 and 403 among them.
        await page.locator("#operations-events-post_events_api_v1_events_post").click()
        codes = await page.locator(
            "#operations-events-post_events_api_v1_events_post .response-col_status"
        ).all_inner_texts()
        assert {"200", "401", "403"} <= {c.strip() for c in codes}
        # Each event type has its example body to start from.
        post = page.locator("#operations-events-post_events_api_v1_events_post")
        await post.locator(".examples-select select").select_option("survey.response")
        body = await post.locator(".body-param__example").inner_text()
        assert '"type": "survey.response"' in body and '"satisfaction": 2.5' in body
        await page.screenshot(path=SHOTS / "api-docs.png")

        await page.goto(f"{base}/redoc")
        post = page.get_by_role("heading", name="Post Events")
        await post.wait_for(timeout=30_000)
        assert await page.locator("[data-item-id^='tag/events']").count() >= 1
        await page.screenshot(path=SHOTS / "api-redoc.png")

    assert seen["blocked"] == []
    # ReDoc's sidebar always asks for its maker's logo from their CDN (and hides it when it
    # fails): the page's policy stops that request before it leaves. Nothing else is refused.
    refused = [e for e in seen["errors"] if "Content Security Policy" in e]
    assert all(REDOC_LOGO in e for e in refused), refused
