"""SQLite under concurrent requests: connections are kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, text

from wendu.store.db import make_engine


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
