"""SQL in batches, the same way on SQLite and PostgreSQL, for every path that writes many rows.

Ingest, firing, waits, cooldowns and decisions all read and write hundreds of rows at a time;
`chunks` keeps their `IN (...)` lists and multi-row `VALUES` inside every backend's limits, and
`dialect_insert` gives the backend's INSERT (for `ON CONFLICT`). Kept apart from `firing` so the
modules that use it need not import one another.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500  # keeps IN (...) lists and multi-row VALUES well inside every backend's limits


def dialect_insert(session: Session, model: type):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database: {dialect}")


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
