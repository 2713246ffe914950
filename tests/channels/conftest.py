"""Fixtures of the channel tests: the local WeCom sandbox."""

from __future__ import annotations

import pytest

from wendu.demo import wecom_sandbox


@pytest.fixture(scope="session")
def fake_wecom():
    return wecom_sandbox


@pytest.fixture
def wecom_server(fake_wecom):
    server = fake_wecom.WeComServer(users={"lina", "zhangwei"}).start()
    yield server
    server.stop()
