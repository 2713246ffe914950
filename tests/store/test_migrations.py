"""The migrations build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from wendu.store.db import upgrade
from wendu.store.schema import metadata


def test_migrations_match_models(engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine) -> None:
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"events", "firings", "notifications", "tasks", "profiles"} <= tables


def test_concurrent_upgrades_do_not_trample_each_other(db_url) -> None:
    # The API and the worker of `wendu up` both upgrade at start, in one process.
    import threading

    from wendu.store.db import make_engine

    errors: list[BaseException] = []

    def run() -> None:
        eng = make_engine(db_url)
        try:
            upgrade(eng)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
