"""Seeded stores and the fixture templates of the workflow tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from wendu.store.db import make_session_factory


def _load_scenarios():
    name = "wendu_test_scenarios"
    if name not in sys.modules:
        path = Path(__file__).parent.parent / "workflows" / "scenarios.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


scenarios = _load_scenarios()


@pytest.fixture(scope="session")
def sc():
    return scenarios


@pytest.fixture
def store(engine: Engine):
    """A seeded session factory on SQLite and on PostgreSQL (unique keys behave differently)."""
    factory = make_session_factory(engine)
    scenarios.seed(factory)
    return factory
