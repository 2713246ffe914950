"""SQLite under concurrent requests: connections are kept, and one process's writers take turns."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, text

from wendu.store.db import make_engine, make_session_factory, one_writer


def test_concurrent_threads_keep_their_connections(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wendu.db'}")
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    barrier = threading.Barrier(16)

    def use() -> None:
        with engine.connect() as conn:
            barrier.wait(timeout=30)  # all 16 hold a connection at once
            conn.execute(text("SELECT 1"))

    for _ in range(3):
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: use(), range(16)))
    # As many as were ever in use at once, opened once: none closed and opened again.
    assert len(opened) == 16
    engine.dispose()


def test_writers_of_one_sqlite_file_take_turns(tmp_path):
    url = f"sqlite:///{tmp_path / 'wendu.db'}"
    # Two factories on the same file, as the API's and the worker's in one process.
    factories = [make_session_factory(make_engine(url)) for _ in range(2)]
    inside, most = [0], [0]
    guard = threading.Lock()

    def write(i: int) -> None:
        with one_writer(factories[i % 2]):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.01)
            with guard:
                inside[0] -= 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(32)))
    assert most[0] == 1


def test_other_databases_are_not_held():
    # PostgreSQL locks rows, and an in-memory SQLite database is one connection's own.
    for url in ("sqlite://", "postgresql+psycopg://127.0.0.1:5432/test"):
        factory = make_session_factory(make_engine(url))
        entered = threading.Event()

        def enter(factory=factory, entered=entered) -> None:
            with one_writer(factory):
                entered.set()

        with one_writer(factory):
            t = threading.Thread(target=enter)
            t.start()
            assert entered.wait(10), url
        t.join()
