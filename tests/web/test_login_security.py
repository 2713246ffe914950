"""The sign-in throttle under concurrent guesses, and the client address behind proxies."""

from __future__ import annotations

import asyncio
import re
import socket
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from wendu.cli.up import _Services
from wendu.store.models_accounts import AuditLog

from .conftest import PASSWORD, login_form, running_app, seed_company

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _guesses(http: httpx.AsyncClient, n: int, **fields: str) -> list[int]:
    """`n` sign-ins posted at once, with one login page's CSRF token, as a script would."""
    form = await http.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    posts = [http.post("/console/login", data={"csrf": csrf.group(1), **fields})
             for _ in range(n)]
    return [r.status_code for r in await asyncio.gather(*posts)]


def _audit(factory, action: str) -> list[AuditLog]:
    with factory() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


async def test_concurrent_wrong_passwords_past_the_limit_are_throttled(console, factory):
    codes = await _guesses(console, 12, username="m1", password="guess")
    assert Counter(codes) == {401: 5, 429: 7}
    assert len(_audit(factory, "user.login_failed")) == 5
    assert len(_audit(factory, "user.login_throttled")) == 7
    # And the right password is held too until the failures age out.
    r = await login_form(console, username="m1", password=PASSWORD)
    assert r.status_code == 429


@pytest.fixture
async def served(settings, temporal, factory):
    """The app behind uvicorn configured as `wendu up` configures it, on a local port: the
    requests below come from 127.0.0.1, the address uvicorn itself trusts by default."""
    seed_company(factory, tasks=False)
    settings.temporal_address = temporal.service_client.config.target_host
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = _Services(settings, ("127.0.0.1", port), worker=False, quiet=True)._make_server(
        "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the API did not start"
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        yield http
    server.should_exit = True
    await serving


async def test_a_forged_forwarded_for_neither_dodges_the_throttle_nor_enters_the_audit(
    served, factory
):
    for n in range(20):  # a new claimed address each time
        r = await _forged(served, f"someone{n}", n)
        assert r.status_code == 401
    # The twenty-first try from this address is held, whatever address it claims.
    r = await _forged(served, "a1", 99, password=PASSWORD)
    assert r.status_code == 429
    ips = {row.ip for row in _audit(factory, "user.login_failed")}
    assert ips == {"127.0.0.1"}  # the connection's address, never a claimed one


async def _forged(http: httpx.AsyncClient, username: str, n: int,
                  password: str = "guess") -> httpx.Response:
    form = await http.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    return await http.post(
        "/console/login",
        data={"csrf": csrf.group(1), "username": username, "password": password},
        headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Forwarded-Proto": "https"},
    )


async def test_a_configured_proxy_is_believed_about_the_client(settings, temporal, factory):
    seed_company(factory, tasks=False)
    settings.trusted_proxies = "127.0.0.0/8"
    async with running_app(settings, temporal) as http:
        r = await _forged(http, "m1", 7)
        assert r.status_code == 401
        r = await _forged(http, "m1", 8, password=PASSWORD)
        assert r.status_code == 303
    [failed] = _audit(factory, "user.login_failed")
    [ok] = _audit(factory, "user.login")
    assert (failed.ip, ok.ip) == ("198.51.100.7", "198.51.100.8")


async def test_a_nul_in_a_form_field_is_a_422_naming_it_not_a_500(console, factory):
    r = await login_form(console, username="m1\x00", password="guess")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == ["username"]
    assert _audit(factory, "user.login_failed") == []
