"""Signing in and out: passwords, disabled accounts, the session cookie's flags, CSRF."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from wendu.api.web_accounts import disable_user
from wendu.store.models_accounts import AuditLog

from .conftest import PASSWORD, login, login_form, running_app, seed_company

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_login_sets_a_locked_down_cookie_and_logout_ends_the_session(console, factory):
    r = await login_form(console, username="m1", password=PASSWORD, next="/console/inbox")
    assert r.status_code == 303 and r.headers["location"] == "/console/inbox"
    cookie = r.headers["set-cookie"].lower()
    assert "wendu_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP is fine in test and development only
    me = await console.get("/console/api/me")
    assert me.json() == {"username": "m1", "role": "manager", "employee_id": "M1"}

    csrf = await login(console, "m1")
    assert (await console.post("/console/logout")).status_code == 403  # no CSRF token
    r = await console.post("/console/logout", data={"csrf": csrf})
    assert r.status_code == 303
    assert (await console.get("/console/api/me")).status_code == 401
    page = await console.get("/console/tasks")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    with factory() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.actor == "m1")))
    assert actions.count("user.login") == 2 and "user.logout" in actions


async def test_wrong_password_unknown_user_and_disabled_account_are_refused(console, factory):
    for username, password in (("m1", "wrong password"), ("nobody", PASSWORD)):
        r = await login_form(console, username=username, password=password)
        assert r.status_code == 401 and "wendu_session" not in r.headers.get("set-cookie", "")
        assert "Wrong username or password" in r.text or "用户名或密码错误" in r.text
    csrf = await login(console, "a1")
    with factory.begin() as s:
        disable_user(s, "a1")
    # Disabling ends the live session too, not only future logins.
    assert (await console.get("/console/api/me")).status_code == 401
    r = await login_form(console, username="a1", password=PASSWORD)
    assert r.status_code == 401
    assert csrf


async def test_repeated_wrong_passwords_hold_the_account_for_a_while(console, factory):
    for _ in range(5):
        r = await login_form(console, username="m1", password="guess")
        assert r.status_code == 401
    # The sixth try is refused before the password is looked at, the right one included.
    r = await login_form(console, username="m1", password=PASSWORD)
    assert r.status_code == 429 and "wendu_session" not in r.headers.get("set-cookie", "")
    assert "try again in 15 minutes" in r.text or "15 分钟后再试" in r.text
    assert 14 * 60 < int(r.headers["Retry-After"]) <= 15 * 60 + 1
    # Others sign in as usual.
    assert await login(console, "a1")
    with factory.begin() as s:  # fifteen minutes later (the failures age out of the window)
        for row in s.scalars(select(AuditLog).where(AuditLog.action == "user.login_failed")):
            row.at = row.at - timedelta(minutes=16)
    assert await login(console, "m1")
    with factory() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.actor == "m1")))
    assert actions.count("user.login_failed") == 5 and "user.login_throttled" in actions


async def test_many_failures_from_one_address_hold_it_across_usernames(console):
    for n in range(20):
        r = await login_form(console, username=f"someone{n}", password="guess")
        assert r.status_code == 401
    r = await login_form(console, username="a1", password=PASSWORD)
    assert r.status_code == 429


async def test_state_changes_need_the_sessions_csrf_token(console):
    # Signing in is a state change too: without the login form's token it is refused.
    r = await console.post("/console/login", data={"username": "a1", "password": PASSWORD})
    assert r.status_code == 403 and "set-cookie" not in r.headers
    csrf = await login(console, "a1")
    url = "/console/api/notifications/1/read"
    assert (await console.post(url)).status_code == 403
    assert (await console.post(url, headers={"X-CSRF-Token": "forged"})).status_code == 403
    assert (await console.get("/console/api/notifications")).json()[0]["read_at"] is None
    r = await console.post(url, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["read_at"]


async def test_cookie_is_secure_in_production(settings, temporal, factory):
    seed_company(factory)
    prod = settings.model_copy(update={"environment": "production",
                                       "secret_key": "a-real-secret-of-our-own-0123456789"})
    async with running_app(prod, temporal) as http:
        http.base_url = httpx.URL("https://wendu")  # Secure cookies travel over HTTPS only
        r = await login_form(http, username="hr", password=PASSWORD)
        assert r.status_code == 303
        assert "secure" in r.headers["set-cookie"].lower()

