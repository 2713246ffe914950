"""Every console page is served with a strict Content-Security-Policy and anti-framing,
nosniff and Referrer-Policy headers, and carries no inline script or style the policy would
have to allow."""

from __future__ import annotations

import re

import pytest

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAGES = [
    "/console/tasks", "/console/tasks?fragment=true", "/console/inbox", "/console/rules",
    "/console/rules/overtime-care", "/console/dashboard", "/console/employees/A1",
    "/console/employees/A1/feedback", "/console/employees/NOBODY",
]
# What a strict policy forbids: script without src, <style>, style= and on...= attributes,
# javascript: URLs.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I)


def assert_locked_down(response) -> None:
    h = response.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in h["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in h["content-security-policy"]


async def test_console_pages_are_served_with_security_headers_and_no_inline_code(console):
    signed_out = await console.get("/console/login")
    assert signed_out.status_code == 200
    assert_locked_down(signed_out)
    assert not INLINE.search(signed_out.text)

    await login(console, "hr")
    for path in PAGES:
        r = await console.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert_locked_down(r)
        found = INLINE.search(r.text)
        assert found is None, f"{path}: inline code {found.group(0)!r}"
    assert (await console.get("/console/employees/NOBODY")).status_code == 404
    for asset in ("/static/app.js", "/static/app.css"):
        assert_locked_down(await console.get(asset))


async def test_api_answers_and_refusals_carry_the_headers_too(console):
    assert_locked_down(await console.get("/api/v1/tasks"))  # 401 JSON
    assert_locked_down(await console.get("/console/api/me"))
    # The API docs run only this server's scripts too (no inline script, nothing from a
    # CDN); their libraries insert styles at run time, which their own policy allows.
    for path in ("/docs", "/redoc"):
        docs = await console.get(path)
        assert docs.status_code == 200
        assert docs.headers["x-frame-options"] == "DENY"
        policy = docs.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert not INLINE_SCRIPT.search(docs.text), path
        assert "https://" not in docs.text, path
