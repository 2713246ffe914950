"""The fuller SIGKILL fault test: rounds of larger bursts, each killed mid-way, on one stack.

The suite's `tests/integration/test_faults.py` kills the stack once during 60 posts. Here a
real `wendu up` (embedded dev server, a local SMTP sink) takes ROUNDS bursts of BURST posts
(attendance and chat events, one person each, half of them firing by the intent scorer) from
CONCURRENCY producers; each round SIGKILLs the whole process group once a random share of its
burst is acknowledged, restarts at once on the same data dir, and measures: acknowledged
events lost (must be 0), firings not started (0), messages received twice at the SMTP sink
under one Message-ID (only a message the kill caught between the sink's 250 and its row
being marked delivered may be; counted), and the seconds from the restart until every
firing of the round had started and every message had gone out.

    python benchmarks/bench_faults.py [--rounds 4] [--burst 500] [--concurrency 16]
                                      [--db sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.fault_stack import SENDER, wait_until  # noqa: E402
from tests.integration.test_faults import (  # noqa: E402
    PG_URL,
    Stack,
    hire,
    late_day,
    payroll_question,
)
from wendu.channels.email import message_id  # noqa: E402
from wendu.store.db import make_engine, upgrade  # noqa: E402
from wendu.store.models import Event, Firing, Notification  # noqa: E402


def database(kind: str, root: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{root / 'wendu.db'}"
    else:
        schema = f"bench_faults_{int(time.time())}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def burst(stack: Stack, events: list[dict], kill_after: int, concurrency: int) -> list[str]:
    acked: list[str] = []
    lock, killed = threading.Lock(), threading.Event()

    def post(event: dict) -> None:
        if killed.is_set():
            return
        try:
            r = stack.up.post([event], timeout=60)
        except httpx.HTTPError:
            return
        if r.status_code == 200:
            with lock:
                acked.append(event["id"])

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(post, e) for e in events]
        wait_until(lambda: len(acked) >= kill_after, f"{kill_after} posts acknowledged", 600)
        stack.up.kill_group()
        killed.set()
        for f in futures:
            f.result()
    return acked


def settle(stack: Stack, ids: list[str], restarted: float) -> tuple[int, float]:
    """(firings of these events, seconds from the restart until all started and sent)."""
    def done() -> int | None:
        with stack.factory() as s:
            firings = list(s.scalars(select(Firing).where(Firing.event_id.in_(ids))))
            people = [f.employee_id for f in firings]
            sent = s.scalars(select(Notification.status)
                             .where(Notification.recipient_id.in_(people))).all()
        ok = all(f.status == "started" for f in firings) and len(sent) == len(firings) and all(
            status == "delivered" for status in sent)
        return len(firings) if ok else None

    count = wait_until(done, "every firing started and sent", 900)
    return count, time.time() - restarted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    stack = Stack(root, database(args.db, root))
    random.seed(13)
    try:
        stack.start()
        print(f"wendu up on {args.db}; {args.rounds} rounds of {args.burst} posts at "
              f"concurrency {args.concurrency}")
        print("round  acked  lost  firings  resent  restart->all started and sent")
        for n in range(args.rounds):
            people = [f"R{n}P{i:04d}" for i in range(args.burst)]
            stack.post_ok([hire(p, "email") for p in people])
            events = [late_day(p, "b") if i % 2 else payroll_question(p, "b")
                      for i, p in enumerate(people)]
            acked = burst(stack, events, random.randint(args.burst // 5, args.burst * 4 // 5),
                          args.concurrency)
            restarted = time.time()
            stack.restart_up()
            with stack.factory() as s:
                stored = set(s.scalars(select(Event.id).where(Event.id.in_(acked))))
            ids = [e["id"] for e in events]
            firings, seconds = settle(stack, ids, restarted)
            with stack.factory() as s:
                keys = s.scalars(select(Notification.key)
                                 .where(Notification.recipient_id.in_(people))).all()
            copies = [stack.smtp.times(message_id(k, SENDER)) for k in keys]
            resent = [seen for seen in copies if len(seen) > 1]
            # A second copy is the design's only when the first arrived before the kill.
            wrong = [seen for seen in resent if len(seen) > 2 or not seen[0] < restarted]
            print(f"{n + 1:>5}  {len(acked):>5}  {len(set(acked) - stored):>4}  {firings:>7}  "
                  f"{len(resent):>6}  {seconds:>8.1f} s"
                  + (f"  {len(wrong)} SENT TWICE AFTER THE RESTART" if wrong else ""))
    finally:
        stack.close()
        if "search_path" in stack.db_url:  # the PostgreSQL schema made for this run
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                schema = stack.db_url.rsplit("%3D", 1)[1]
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
