"""Fixtures of the channel tests: the local WeCom server and the fakes module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def load_fake(name: str):
    """tests/fakes/<name>.py, loaded once under one module name (tests are not a package)."""
    module_name = f"wendu_test_fakes_{name}"
    if module_name not in sys.modules:
        path = Path(__file__).parent.parent / "fakes" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@pytest.fixture(scope="session")
def fake_wecom():
    return load_fake("wecom_server")


@pytest.fixture
def wecom_server(fake_wecom):
    server = fake_wecom.WeComServer(users={"lina", "zhangwei"}).start()
    yield server
    server.stop()
