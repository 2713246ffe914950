"""SQL in batches, the same way on SQLite and PostgreSQL, for every path that writes many rows.

Ingest, firing, waits, cooldowns and decisions all read and write hundreds of rows at a time;
`chunks` keeps their `IN (...)` lists and multi-row `VALUES` inside every backend's limits, and
`dialect_insert` gives the backend's INSERT (for `ON CONFLICT`). Kept apart from `firing` so the
modules that use it need not import one another.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
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


def insert_many(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows (all with the same keys, every column they write named: no column defaults
    are applied) with `execute_many`."""
    if rows:
        execute_many(session, _insert_of(table, tuple(rows[0])), rows)


def execute_many(session: Session, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Run a Core statement of bound parameters once per row, as one driver-level executemany
    per chunk, in the session's transaction.

    Each value goes through its parameter's type's own bind processor, so what is stored is
    what `session.execute(stmt, rows)` stores; only SQLAlchemy's per-row statement machinery
    is skipped (on the decision log and the profile rows it cost more than the writes).
    `stmt` is compiled once per dialect: pass the same (cached) statement object each time.
    """
    if not rows:
        return
    conn = session.connection()
    sql, compiled = _compiled(conn.dialect, stmt)
    procs = [(n, _repeating(p) if p else None) for n, p in compiled]
    params: list[Any]
    if conn.dialect.positional:
        params = [tuple(p(row[n]) if p else row[n] for n, p in procs) for row in rows]
    else:
        params = [{n: p(row[n]) if p else row[n] for n, p in procs} for row in rows]
    for chunk in chunks(params, 2_000):
        conn.exec_driver_sql(sql, chunk)


@cache
def _insert_of(table: Table, names: tuple[str, ...]) -> Any:
    missing = {c.name for c in table.c if c.default is not None} - set(names)
    if missing:
        raise ValueError(f"insert_many into {table.name}: no value for {sorted(missing)}")
    return insert(table).values({name: bindparam(name) for name in names})


@lru_cache(maxsize=256)  # per engine (tests make many) and statement
def _compiled(dialect: Dialect, stmt: Any) -> tuple[str, list[tuple[str, Any]]]:
    compiled = stmt.compile(dialect=dialect, for_executemany=True)
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    procs = [(n, compiled.binds[n].type._cached_bind_processor(dialect)) for n in names]
    return compiled.string, procs


def _repeating(process: Any) -> Any:
    """`process`, reusing its last result when given the same object again: a batch's rows
    share their timestamps (`now`), and a UTC datetime's processing is the dearest part."""
    last: list[Any] = [object(), None]

    def processed(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return processed


def sqlite_insert_new(session: Session, table: Table, names: Sequence[str],
                      rows: Sequence[Sequence[Any]], returning: Sequence[str],
                      conflict: str | None = None) -> list[Any]:
    """SQLite: INSERT rows (values in the order of `names`) unless they conflict with a stored
    row (on `conflict`, or on any unique constraint), as one multi-row statement per chunk at
    the driver; returns the `returning` columns of the rows inserted now.

    `ON CONFLICT DO NOTHING RETURNING` settles duplicates in the database, even against a
    concurrent writer. Values go through their column types' bind processors, as in
    `execute_many`.
    """
    conn = session.connection()
    procs = [_repeating(p) if (p := table.c[n].type._cached_bind_processor(conn.dialect))
             else None for n in names]
    one = "(" + ", ".join("?" * len(names)) + ")"
    target = f" ({conflict})" if conflict else ""
    inserted: list[Any] = []
    size = max(1, _sqlite_variables(conn) // len(names))
    for chunk in chunks(list(rows), size):
        sql = (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
               f"{', '.join([one] * len(chunk))} ON CONFLICT{target} DO NOTHING "
               f"RETURNING {', '.join(returning)}")
        params = [p(v) if p else v for row in chunk for p, v in zip(procs, row, strict=True)]
        inserted += conn.exec_driver_sql(sql, tuple(params)).all()
    return inserted


def _sqlite_variables(conn: Any) -> int:
    """How many bound values one statement may have: 32,766 since SQLite 3.32, 999 before."""
    raw = conn.connection.dbapi_connection
    try:
        return min(30_000, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except AttributeError:  # Python before 3.11 cannot ask
        return 999
