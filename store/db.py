"""Engines and sessions for SQLite (default) and PostgreSQL, and schema upgrades via Alembic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from wendu.store import jsontext

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Alembic's migration context is process-wide: two upgrades at once in one process (the API
# and the worker of `wendu up`) would trample each other.
_UPGRADE_LOCK = threading.Lock()
# Any fixed number: the key of the PostgreSQL advisory lock that serializes upgrades across
# processes (an API and several workers starting together).
_PG_UPGRADE_LOCK_KEY = 7_420_311
# Threads of one process that use a SQLite database at once: the API's thread pool (40) and the
# worker's activities.
SQLITE_POOL_SIZE = 40


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        pool: dict[str, int] = {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Every thread that uses the file at once keeps its connection: with the default
            # five, the others were opened (their pragmas run) and closed again per request.
            pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        engine = create_engine(url, connect_args={"timeout": 30}, **_json({**pool, **kwargs}))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets the API read while the worker writes; busy_timeout waits out a writer.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **_json(kwargs))


def _json(kwargs: dict) -> dict:
    return {"json_serializer": jsontext.dumps, "json_deserializer": jsontext.loads, **kwargs}


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_LOCK = threading.Lock()


@contextmanager
def one_writer(factory: sessionmaker[Session]) -> Iterator[None]:
    """Held around a write transaction, so this process's writers of a SQLite file take turns.

    SQLite lets one writer in at a time, and one that finds the file locked polls for it,
    sleeping up to 100 ms between tries: at 16 concurrent posts more time went into those
    sleeps than into the work. Queued on a lock, each writer starts as soon as the one before
    it commits. PostgreSQL locks rows, not the database: there is nothing to hold there.
    """
    engine, database = factory.kw.get("bind"), None
    if isinstance(engine, Engine) and engine.dialect.name == "sqlite":
        database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with _SQLITE_WRITERS_LOCK:
        lock = _SQLITE_WRITERS.setdefault(str(Path(database).resolve()), threading.Lock())
    with lock:
        yield


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _UPGRADE_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK_KEY})
        cfg.attributes["connection"] = conn
        # "heads": areas add their migrations on branches of their own, merged from time to time.
        command.upgrade(cfg, "heads")
