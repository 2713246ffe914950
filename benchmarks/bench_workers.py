"""RuleWorkflows completed per second with 1, 2 and 4 worker processes, against the raw rate.

Starts its own Temporal dev server (free ports, SQLite file in a temp dir), stores a simple
rule (one notify to the in-app inbox), and per round ingests fresh events so that N firings
are pending, then starts them as the API's starter does (`start_firings`) and times until
Temporal reports all N RuleWorkflows completed. The workers are `wendu worker --processes K`,
a real OS process tree. The baseline, on the same server in the same run: N one-activity
workflows with a trivial activity (`rawflow.py`: no database, no templates), started and
completed as fast as the server and one in-process worker allow.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rawflow import raw_rate
from sqlalchemy import func, select, text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from wendu.devserver import DevServer
from wendu.event_models import parse_event_list
from wendu.firing import start_firings
from wendu.ingest import firing_ids, ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import load_ruleset
from wendu.rulestore import sync_rules
from wendu.store.db import make_engine, make_session_factory, upgrade
from wendu.store.models import Notification
from wendu.temporal import connect

RULE = """\
id: bench-notify
version: 1
title: {zh: 基准, en: Benchmark}
trigger: {event: attendance.day_closed}
when:
  - profile.overtime_hours_7d > 20
dedupe: "{{ employee.id }}/{{ event.day | iso_week }}"
steps:
  - notify: {to: employee, channels: [inapp], template: overtime_care}
"""
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROUND_SECONDS = 180.0  # a round that has not finished by then is reported as such


def events_for(prefix: str, n: int) -> list[dict]:
    """n employees, each hired and with six 4-hour-overtime days: one firing each."""
    out: list[dict] = []
    start = date(2026, 1, 5)
    for i in range(n):
        emp = f"{prefix}-{i:05d}"
        out.append(
            {
                "id": f"hire-{emp}",
                "type": "employee.hired",
                "employee_id": emp,
                "occurred_at": "2025-12-01T00:00:00+00:00",
                "data": {"name": f"Employee {i}", "hired_on": "2024-03-01"},
            }
        )
        for d in range(6):
            day = start + timedelta(days=d)
            clock_in = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
            out.append(
                {
                    "id": f"att-{emp}-{d}",
                    "type": "attendance.day_closed",
                    "employee_id": emp,
                    "occurred_at": (clock_in + timedelta(hours=13)).isoformat(),
                    "data": {
                        "day": day.isoformat(),
                        "clock_in": clock_in.isoformat(),
                        "clock_out": (clock_in + timedelta(hours=13)).isoformat(),
                        "overtime_hours": 4.0,
                    },
                }
            )
    return out


def fire(factory, index, prefix: str, n: int) -> list[int]:
    """Ingest the round's events (not timed): N pending firings, as the API leaves them."""
    events, ids = events_for(prefix, n), []
    for i in range(0, len(events), 1000):
        with factory.begin() as session:
            ids += firing_ids(ingest(session, parse_event_list(events[i : i + 1000]), index))
    assert len(ids) == n, f"expected {n} firings, got {len(ids)}"
    return ids


async def completed(client: Client, query: str) -> int:
    return (await client.count_workflows(f'{query} AND ExecutionStatus = "Completed"')).count


async def wait_completed(client: Client, query: str, n: int, t0: float) -> float | None:
    while (done := await completed(client, query)) < n:
        if time.perf_counter() - t0 > ROUND_SECONDS:
            print(f"    only {done}/{n} completed within {ROUND_SECONDS:.0f}s")
            return None
        await asyncio.sleep(0.1)
    return time.perf_counter() - t0


async def pollers(client: Client, queue: str) -> int:
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len({p.identity for p in resp.pollers})


async def start_workers(k: int, env: dict[str, str], log: Path, client: Client, queue: str):
    wendu = str(Path(sys.executable).parent / "wendu")
    proc = subprocess.Popen(
        [wendu, "worker", "--processes", str(k)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    # Polling, and done loading their models (which would otherwise share the CPU with the
    # measured round).
    while (
        await pollers(client, queue) < k
        or log.read_text(errors="replace").count("scorers ready") < k
    ):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the {k} worker(s) did not start:\n{log.read_text()[-2000:]}")
        await asyncio.sleep(0.5)
    return proc


def stop_workers(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def wendu_round(k: int, n: int, ctx: dict) -> float | None:
    client, factory, index = ctx["client"], ctx["factory"], ctx["index"]
    queue = f"bench-k{k}-{uuid.uuid4().hex[:6]}"
    env = {**ctx["env"], "WENDU_TASK_QUEUE": queue}
    proc = await start_workers(k, env, ctx["tmp"] / f"workers-{k}.log", client, queue)
    try:
        query = f'WorkflowType = "RuleWorkflow" AND TaskQueue = "{queue}"'
        warm = fire(factory, index, f"w{k}", 20)
        await start_firings(client, factory, warm, queue)
        await wait_completed(client, query, 20, time.perf_counter())
        ids = fire(factory, index, f"k{k}", n)
        t0 = time.perf_counter()
        await start_firings(client, factory, ids, queue)
        elapsed = await wait_completed(client, query, n + 20, t0)
    finally:
        stop_workers(proc)
    with factory() as s:
        sent = s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.recipient_id.like(f"k{k}-%"))
        )
    assert elapsed is None or sent == n, f"{sent} notifications for {n} workflows"
    return elapsed


def database(kind: str, tmp: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'wendu.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with make_engine(PG_URL).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


async def run(n: int, ks: list[int], kind: str) -> None:
    with tempfile.TemporaryDirectory(prefix="wendu-bench-") as tmpdir:
        tmp = Path(tmpdir)
        url, schema = database(kind, tmp)
        engine = make_engine(url)
        server = DevServer(tmp / "temporal")
        try:
            upgrade(engine)
            factory = make_session_factory(engine)
            (tmp / "rules").mkdir()
            (tmp / "rules" / "bench.yaml").write_text(RULE, encoding="utf-8")
            loaded = load_ruleset([tmp / "rules"])
            assert loaded.ok, loaded.problems
            with factory.begin() as session:
                sync_rules(session, loaded.plans, loaded.sources, loaded.files)
            await server.start()
            client = await connect(server.address, "default")
            env = {
                **os.environ,
                "WENDU_DATABASE_URL": url,
                "WENDU_ENVIRONMENT": "test",
                "WENDU_TEMPORAL_ADDRESS": server.address,
                "WENDU_DATA_DIR": str(tmp / "data"),
                # Nothing held back for the night or the daily cap: every message goes out.
                "WENDU_QUIET_HOURS": "",
                "WENDU_DAILY_CAP": "0",
            }
            ctx = {
                "client": client,
                "factory": factory,
                "env": env,
                "tmp": tmp,
                "index": RuleIndex(loaded.plans),
            }
            print(
                f"{n} workflows per round; Temporal dev server (SQLite file), "
                f"Wendu database: {kind}, {os.cpu_count()} CPUs"
            )
            rows = [
                # Seconds, like the rounds: n workflows at the raw rate.
                ("baseline: one trivial activity, in-process worker",
                 n / await raw_rate(client, n))
            ]
            for k in ks:
                rows.append(
                    (
                        f"RuleWorkflow (one in-app notify), {k} worker process(es)",
                        await wendu_round(k, n, ctx),
                    )
                )
        finally:
            await server.astop()
            engine.dispose()
            if schema:
                with make_engine(PG_URL).begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    base = rows[0][1]
    print(f"\n{'':58} {'workflows/s':>12} {'vs baseline':>12}")
    for name, elapsed in rows:
        if elapsed is None:
            print(f"{name:58} {'(timed out)':>12}")
            continue
        ratio = f"{base / elapsed:.2f}x" if base else "-"
        print(f"{name:58} {n / elapsed:12.1f} {ratio:>12}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workflows", type=int, default=200, help="per round (default 200)")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    asyncio.run(run(args.workflows, args.processes, args.db))


if __name__ == "__main__":
    main()
