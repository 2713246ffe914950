"""The migrations build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from wendu.store.db import upgrade
from wendu.store.models import Base


def test_migrations_match_models(engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine) -> None:
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"events", "firings", "notifications", "tasks", "profiles"} <= tables
