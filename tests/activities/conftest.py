"""Seeded stores and the fixture templates of the workflow tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from wendu.store.db import make_session_factory


@pytest.fixture
def store(engine: Engine, sc):
    """A seeded session factory on SQLite and on PostgreSQL (unique keys behave differently)."""
    factory = make_session_factory(engine)
    sc.seed(factory)
    return factory
