"""Alembic environment: runs against the connection handed over by `wendu.store.db.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from wendu.store.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
