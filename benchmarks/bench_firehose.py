"""The chat and search firehose through the real stack, end to end, against raw Temporal.

Starts `wendu up --demo` (its own data dir, free ports, quiet hours and the daily cap off),
hires a company, then posts chat and search events of which about 5% are HR needs, from
several producers at once. Measures from the first post until every rule workflow those posts
started has completed: events/s end to end and rule workflows/s. The baseline, in the same run
on the same Temporal server: as many one-activity workflows started and completed by a bare
worker, so the ratio shows what the engine's workflows cost over Temporal's own minimum.

    python benchmarks/bench_firehose.py [--events 10000] [--employees 1000] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rawflow import raw_rate
from stack import Stack, company
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from wendu.scorers.corpora import intent_examples

BATCH = 500
PRODUCERS = 4
NEED_SHARE = 0.05
# Needs the library answers (a guide, or the resignation signal to HR).
NEEDS = ("housing_fund_withdrawal", "employment_certificate", "payroll", "leave_request",
         "reimbursement", "resignation")


def firehose(n: int, employees: int, seed: int = 3) -> tuple[list[dict], int]:
    rng = random.Random(seed)
    examples = intent_examples(seed=seed)
    small_talk = [e.text for e in examples if e.label == "none"]
    needs = [e.text for e in examples if e.label in NEEDS]
    start = datetime.now(UTC) - timedelta(hours=1)
    events, asked = [], 0
    for i in range(n):
        need = rng.random() < NEED_SHARE
        asked += need
        kind = "chat.message" if rng.random() < 0.7 else "search.query"
        data = {"text": rng.choice(needs if need else small_talk)}
        if kind == "chat.message":
            data["channel"] = "wecom"
        events.append({"id": f"fh-{uuid.uuid4().hex}", "type": kind,
                       "employee_id": f"B{rng.randrange(employees):05d}",
                       "occurred_at": (start + timedelta(milliseconds=i)).isoformat(),
                       "data": data})
    return events, asked


async def post_all(url: str, token: str, events: list[dict]) -> list[str]:
    """Every batch posted by PRODUCERS concurrent producers; the workflow ids that fired."""
    batches = [events[i:i + BATCH] for i in range(0, len(events), BATCH)]
    queue: asyncio.Queue[list[dict]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    fired: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def producer(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            r = await client.post(f"{url}/api/v1/events", json={"events": batch},
                                  headers=headers, timeout=120)
            r.raise_for_status()
            fired.extend(f["workflow_id"] for res in r.json()["results"] for f in res["fired"])

    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(producer(client) for _ in range(PRODUCERS)))
    return fired


async def wait_closed(client: Client, ids: list[str], timeout: float = 900) -> int:
    """Until every workflow in `ids` has closed; how many completed.

    One long poll per workflow, answered when it closes: asking the server again and again
    would load the very server whose rate is measured."""

    async def closed(wid: str) -> bool:
        handle = client.get_workflow_handle(wid)
        while True:
            try:
                await handle.result()
                return True
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                await asyncio.sleep(0.2)  # queued, not started yet
            except WorkflowFailureError:
                return False

    try:
        done = await asyncio.wait_for(asyncio.gather(*(closed(w) for w in ids)), timeout)
    except TimeoutError:
        raise SystemExit(f"rule workflows still open after {timeout}s") from None
    return sum(done)


async def main_async(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="wendu-firehose-"))
    stack = Stack(root, args.workers)
    try:
        token = stack.wait_ready()
        print(f"stack up: {stack.url} (workers: {args.workers}); hiring {args.employees}")
        await post_all(stack.url, token, company(args.employees))
        # The API loads its scorers on the first text it reads: warm it, as a running
        # deployment is, and let what that fired finish before the clock starts.
        client = await Client.connect(f"127.0.0.1:{stack.temporal_port}")
        warm, _ = firehose(BATCH, args.employees, seed=99)
        await wait_closed(client, await post_all(stack.url, token, warm))

        events, asked = firehose(args.events, args.employees)
        t0 = time.perf_counter()
        ids = await post_all(stack.url, token, events)
        acked = time.perf_counter() - t0
        completed = await wait_closed(client, ids)
        total = time.perf_counter() - t0
        raw = await raw_rate(client, max(len(ids), 50))
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    rule_rate = len(ids) / total
    print(f"{args.events} chat/search events ({asked} HR needs), {args.employees} employees, "
          f"batches of {BATCH} from {PRODUCERS} producers")
    print(f"  API answered all posts in {acked:6.1f} s: {args.events / acked:8,.0f} events/s")
    print(f"  end to end (posted -> every workflow done): {total:6.1f} s: "
          f"{args.events / total:8,.0f} events/s")
    print(f"  rule workflows started: {len(ids)} ({completed} completed): "
          f"{rule_rate:6.1f} workflows/s")
    print(f"  baseline, same server: {max(len(ids), 50)} one-activity workflows: "
          f"{raw:6.1f} workflows/s")
    print(f"  rule workflows complete at {rule_rate / raw:.0%} of the raw rate")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--employees", type=int, default=1_000)
    ap.add_argument("--workers", type=int, default=1)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
