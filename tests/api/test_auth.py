"""Bearer tokens: 401 without a live token (with WWW-Authenticate), 403 without the scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from wendu.store.models import Event
from wendu.tokens import revoke_token

from .conftest import attendance, make_token, running_app

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def anon(settings, temporal):
    async with running_app(settings, temporal) as http:
        yield http


async def test_no_token_is_401_with_a_challenge(anon, emp):
    r = await anon.post("/api/v1/events", json=attendance(emp, date(2026, 1, 5)))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    for path in ("/api/v1/tasks", "/api/v1/notifications", "/api/v1/rules"):
        assert (await anon.get(path)).status_code == 401


async def test_unknown_and_revoked_tokens_are_401(anon, factory):
    r = await anon.get("/api/v1/tasks", headers={"Authorization": "Bearer wdu_not-a-token"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    token = make_token(factory, ["tasks:act"], name="manager-app")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await anon.get("/api/v1/tasks", headers=auth)).status_code == 200
    with factory.begin() as s:
        assert revoke_token(s, "manager-app") is True
    r = await anon.get("/api/v1/tasks", headers=auth)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    # The name is free again for a replacement token.
    make_token(factory, ["tasks:act"], name="manager-app")


async def test_a_token_without_the_scope_is_403_and_nothing_is_stored(anon, factory, emp):
    token = make_token(factory, ["notifications:read"], name="inbox")
    auth = {"Authorization": f"Bearer {token}"}
    r = await anon.post("/api/v1/events", json=attendance(emp, date(2026, 1, 5)), headers=auth)
    assert r.status_code == 403
    assert "events:write" in r.json()["detail"]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 0
    assert (await anon.post("/api/v1/rules/reload", headers=auth)).status_code == 403
    assert (await anon.get("/api/v1/notifications", headers=auth)).status_code == 200


async def test_health_needs_no_token(anon):
    r = await anon.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["database"], body["temporal"]) == ("ok", "ok", "ok")
    assert body["rules"] == 1
