"""A bounded soak of the real stack: mixed event posts at concurrency 4, then 16, and memory.

Starts `wendu up --demo` (its own data dir, free ports), hires a company, then posts what
producers send all day: batches of closed attendance days, single chat messages, portal
searches, feedback and pulse-survey answers. Some of it fires rules (a heavy week, an HR need
or a resignation intent in chat or search, a satisfaction drop), most does not. After a
warm-up at concurrency 4 (the API loads its scorers on the first text it reads), it posts for
a fixed time at concurrency 4, then at 16, and prints per phase: requests/s, p50 and p99
latency and the errors (any answer but 200, or no answer within 30 s); then the resident
memory of each process of the stack (API and worker, Temporal dev server) at start, after the
warm-up and at the end, with the growth after the warm-up. Targets are printed beside the
figures. The posting client runs on the same machine, so its own CPU is part of the load.

    python benchmarks/bench_soak.py [--seconds 300] [--employees 500] [--short]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from stack import Stack, company, cpu_seconds, rss_kib

from wendu.scorers.corpora import feedback_examples, intent_examples

WARM_SHARE = 0.1  # of --seconds, at concurrency 4; the rest is split between the two phases
CONCURRENCY = (4, 16)
TIMEOUT = 30.0
ATTENDANCE_BATCH = 10  # closed days an attendance system sends at once
# Requests by kind, out of 100.
MIX = {"attendance": 35, "chat": 35, "search": 15, "feedback": 8, "survey": 7}
HEAVY_SHARE = 0.1  # of employees: late, overtime-heavy days (the overtime rule fires)
DROPPING_SHARE = 0.1  # of employees: satisfaction falls (the satisfaction-drop rule fires)
CHAT_NEEDS, CHAT_RESIGN, SEARCH_NEEDS = 0.09, 0.01, 0.05
GUIDES = ("housing_fund_withdrawal", "employment_certificate", "payroll", "leave_request",
          "reimbursement")
ZONE = ZoneInfo("Asia/Shanghai")
TARGET_P99_MS, TARGET_GROWTH = 200.0, 0.10


class Mix:
    """Request bodies of the producers' mix, each a list of events with fresh ids."""

    def __init__(self, employees: int, seed: int = 13) -> None:
        self.rng = rng = random.Random(seed)
        self.people = [f"B{i:05d}" for i in range(employees)]
        self.heavy = set(rng.sample(self.people, int(employees * HEAVY_SHARE)))
        self.dropping = set(rng.sample(self.people, int(employees * DROPPING_SHARE)))
        intents = intent_examples(seed=seed)
        self.small_talk = [e.text for e in intents if e.label == "none"]
        self.needs = [e.text for e in intents if e.label in GUIDES]
        self.resign = [e.text for e in intents if e.label == "resignation"]
        self.feedback_texts = [e.text for e in feedback_examples(seed=seed)]
        # The last seven local days before today: closed days, the newest ones fresh enough
        # for the overtime rule (3 days), the older ones folded only.
        today = datetime.now(ZONE).date()
        self.days = [today - timedelta(days=back) for back in range(7, 0, -1)]
        self.serial = 0
        self.next_day: dict[str, int] = {}
        self.surveys: dict[str, int] = {}
        self.kinds = list(MIX)
        self.weights = list(MIX.values())

    def _id(self, kind: str) -> str:
        self.serial += 1
        return f"soak-{kind}-{self.serial}"

    def _event(self, kind: str, etype: str, emp: str, at: datetime, **data: object) -> dict:
        return {"id": self._id(kind), "type": etype, "employee_id": emp,
                "occurred_at": at.isoformat(), "data": data}

    def _recent(self) -> datetime:
        return datetime.now(UTC) - timedelta(seconds=self.rng.uniform(0, 600))

    def body(self) -> tuple[str, list[dict]]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return kind, getattr(self, kind)()

    def attendance(self) -> list[dict]:
        out = []
        for emp in self.rng.sample(self.people, ATTENDANCE_BATCH):
            n = self.next_day.get(emp, 0)
            self.next_day[emp] = n + 1
            day: date = self.days[n % len(self.days)]  # round again: a corrected day
            heavy = emp in self.heavy
            clock_in = datetime(day.year, day.month, day.day, 9, 0, tzinfo=ZONE)
            clock_out = clock_in + timedelta(hours=13.5 if heavy else 9.5)
            out.append(self._event("att", "attendance.day_closed", emp, clock_out,
                                   day=day.isoformat(), clock_in=clock_in.isoformat(),
                                   clock_out=clock_out.isoformat(),
                                   overtime_hours=3.5 if heavy else 0.5))
        return out

    def chat(self) -> list[dict]:
        roll = self.rng.random()
        pool = (self.resign if roll < CHAT_RESIGN else
                self.needs if roll < CHAT_RESIGN + CHAT_NEEDS else self.small_talk)
        return [self._event("chat", "chat.message", self.rng.choice(self.people),
                            self._recent(), text=self.rng.choice(pool), channel="wecom")]

    def search(self) -> list[dict]:
        pool = self.needs if self.rng.random() < SEARCH_NEEDS else self.small_talk
        return [self._event("search", "search.query", self.rng.choice(self.people),
                            self._recent(), text=self.rng.choice(pool))]

    def feedback(self) -> list[dict]:
        return [self._event("fb", "feedback.submitted", self.rng.choice(self.people),
                            self._recent(), text=self.rng.choice(self.feedback_texts),
                            channel=self.rng.choice(["survey", "1on1", "suggestion_box"]))]

    def survey(self) -> list[dict]:
        emp = self.rng.choice(self.people)
        n = self.surveys[emp] = self.surveys.get(emp, 0) + 1
        # A dropping employee answers well twice, then far lower: the rule fires.
        score = (2.0 if n > 2 else 4.5) if emp in self.dropping else self.rng.choice([4.0, 4.5])
        return [self._event("survey", "survey.response", emp, self._recent(),
                            survey_id=f"pulse-soak-{self.serial}", satisfaction=score)]


@dataclass
class Phase:
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    events: int = 0
    fired: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process, this phase

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def post_for(client: httpx.AsyncClient, stack: Stack, mix: Mix, phase: Phase,
                   seconds: float) -> Phase:
    """Posts from `phase.concurrency` producers at once, each as fast as it is answered."""
    url = f"{stack.url}/api/v1/events"
    deadline = time.monotonic() + seconds
    cpu_before = {pid: cpu_seconds(pid) for pid, _ in stack.processes()}
    own_before = time.process_time()

    async def producer() -> None:
        while time.monotonic() < deadline:
            _, events = mix.body()
            t0 = time.perf_counter()
            try:
                r = await client.post(url, json={"events": events}, timeout=TIMEOUT)
            except httpx.HTTPError as exc:
                phase.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            phase.latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                phase.errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                continue
            phase.events += len(events)
            phase.fired += sum(len(res["fired"]) for res in r.json()["results"])

    t0 = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(phase.concurrency)))
    phase.seconds = time.perf_counter() - t0
    for pid, cmd in stack.processes():
        before, after = cpu_before.get(pid), cpu_seconds(pid)
        if before is not None and after is not None:
            phase.cpu[label(stack, pid, cmd)] = after - before
    phase.cpu["this client"] = time.process_time() - own_before
    return phase


def snapshot(stack: Stack) -> dict[int, tuple[str, int | None]]:
    return {pid: (label(stack, pid, cmd), rss_kib(pid)) for pid, cmd in stack.processes()}


def label(stack: Stack, pid: int, cmd: str) -> str:
    if pid == stack.proc.pid:
        return "API + worker (wendu up)"
    if "start-dev" in cmd:
        return "Temporal dev server"
    if "worker_child" in cmd:
        return f"worker process {pid}"
    return Path(cmd.split(" ", 1)[0]).name or str(pid)


async def drain(client: httpx.AsyncClient, url: str, timeout: float = 180) -> tuple[int, int]:
    """Until no firing is pending (the background starter has started them all); how many
    are still pending and how many failed."""
    deadline = time.monotonic() + timeout
    pending: list = []
    while time.monotonic() < deadline:
        r = await client.get(f"{url}/api/v1/firings", params={"status": "pending", "limit": 500})
        r.raise_for_status()
        if not (pending := r.json()):
            break
        await asyncio.sleep(1)
    r = await client.get(f"{url}/api/v1/firings", params={"status": "failed", "limit": 500})
    r.raise_for_status()
    return len(pending), len(r.json())


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(phases: list[Phase], rss: list[dict[int, tuple[str, int | None]]], load: list[str],
           left: tuple[int, int], args: argparse.Namespace) -> None:
    print(f"\nsoak of {args.seconds:.0f} s, {args.employees} employees, {os.cpu_count()} cores; "
          f"load average (1, 5, 15 min) at start {load[0]}, at end {load[1]}")
    print("mix of requests: " + ", ".join(f"{k} {v}%" for k, v in MIX.items())
          + f" (attendance in batches of {ATTENDANCE_BATCH}, the rest one event each)")
    for p in phases:
        rate = len(p.latencies) / p.seconds if p.seconds else 0.0
        target = f"   (target < {TARGET_P99_MS:.0f} ms)" if p.concurrency == 16 else ""
        print(f"  concurrency {p.concurrency:2d}: {len(p.latencies):6d} requests in "
              f"{p.seconds:5.1f} s: {rate:7.1f} req/s, {p.events / p.seconds:7.1f} events/s, "
              f"{p.fired} fired")
        print(f"      latency p50 {p.quantile(0.5):7.1f} ms, p99 {p.quantile(0.99):7.1f} ms"
              f"{target}; errors {len(p.errors)} (target 0)")
        if p.latencies:
            print("      CPU per request: " + ", ".join(
                f"{name} {seconds / len(p.latencies) * 1000:.1f} ms"
                for name, seconds in p.cpu.items()))
        for err in sorted(set(p.errors))[:3]:
            print(f"      e.g. {err}")
    print(f"  firings after the posts: {left[0]} still pending, {left[1]} failed (target 0)")
    print(f"  resident memory, MiB   {'start':>8} {'warmed':>8} {'end':>8}   growth after warm-up"
          f" (target < {TARGET_GROWTH:.0%})")
    start, warm, end = rss
    for pid, (name, end_kib) in end.items():
        figures = [s.get(pid, (name, None))[1] for s in (start, warm)] + [end_kib]
        cols = " ".join(f"{f / 1024:8.0f}" if f else f"{'-':>8}" for f in figures)
        growth = (f"{(figures[2] - figures[1]) / figures[1]:+7.1%}"
                  if figures[1] and figures[2] else "      -")
        print(f"    {name:<24} {cols}   {growth}")


async def main_async(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="wendu-soak-"))
    stack = Stack(root)
    load = [loadavg()]
    try:
        token = stack.wait_ready()
        rss = [snapshot(stack)]
        print(f"stack up: {stack.url}; hiring {args.employees}; soak of {args.seconds:.0f} s")
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(headers=headers, limits=limits) as client:
            url = f"{stack.url}/api/v1/events"
            hires = company(args.employees)
            for i in range(0, len(hires), 500):
                r = await client.post(url, json={"events": hires[i:i + 500]}, timeout=120)
                r.raise_for_status()
            mix = Mix(args.employees)
            warm = args.seconds * WARM_SHARE
            await post_for(client, stack, mix, Phase(4), warm)
            rss.append(snapshot(stack))
            each = (args.seconds - warm) / len(CONCURRENCY)
            phases = [await post_for(client, stack, mix, Phase(c), each) for c in CONCURRENCY]
            rss.append(snapshot(stack))
            load.append(loadavg())
            left = await drain(client, stack.url)
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    report(phases, rss, load, left, args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0,
                    help="the whole soak, warm-up included (default 300)")
    ap.add_argument("--employees", type=int, default=500)
    ap.add_argument("--short", action="store_true",
                    help="a quick try: 40 s and 100 employees")
    args = ap.parse_args()
    if args.short:
        args.seconds, args.employees = 40.0, 100
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
