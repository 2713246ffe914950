"""Several worker processes on one machine: `wendu worker --processes N`, `wendu up --workers N`.

Each child is a whole `wendu worker` (its own Temporal client and worker, polling the same task
queue), so Temporal spreads workflow and activity tasks across them as it would across
machines. Only the standard library is imported here: the parent does no Temporal work.

What happens when a child ends by itself:
- within `MIN_UPTIME` seconds of its start, it could not start (bad settings, database or
  Temporal unreachable): starting it again would fail the same way, so every child is stopped
  and the parent exits 1, for the operator's supervisor (systemd, Docker) to see;
- later (killed by the OOM killer, crashed), it is reported and started again, alone.
SIGINT or SIGTERM stops every child (SIGTERM, then SIGKILL after the shutdown grace).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

MIN_UPTIME = 30.0
# The child runs `wendu.cli.worker_child`, which imports `wendu.cli.up` (which imports this).
CHILD = "from wendu.cli.worker_child import child; child()"


def child_command(slot: int, quiet: bool) -> list[str]:
    return [sys.executable, "-c", CHILD, str(slot), "quiet" if quiet else "info"]


def _death_signal():
    """Linux: a child that gets SIGTERM when the parent dies, even by SIGKILL (no orphan
    workers). Resolved in the parent: the forked child may only call it (no imports, no locks)."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


class WorkerPool:
    def __init__(
        self,
        count: int,
        *,
        env: Mapping[str, str] | None = None,
        quiet: bool = False,
        first_slot: int = 1,
        command: Sequence[str] | None = None,
        min_uptime: float = MIN_UPTIME,
    ) -> None:
        self.slots = list(range(first_slot, first_slot + count))
        self.env = {**os.environ, **(env or {})}
        self.quiet = quiet
        self.command = list(command) if command else None  # tests run a stand-in child
        self.min_uptime = min_uptime
        self.procs: dict[int, subprocess.Popen] = {}
        self.started: dict[int, float] = {}
        self.restarts = 0
        self._preexec = _death_signal()

    def _spawn(self, slot: int) -> None:
        cmd = self.command or child_command(slot, self.quiet)
        self.procs[slot] = subprocess.Popen(cmd, env=self.env, preexec_fn=self._preexec)
        self.started[slot] = time.monotonic()
        log.info("worker %d started (pid %d)", slot, self.procs[slot].pid)

    def start(self) -> None:
        for slot in self.slots:
            self._spawn(slot)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def check(self) -> str | None:
        """Reap children that ended: start again those that had been running, or return why
        the pool must stop (a child that could not start)."""
        for slot, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                continue
            ran = time.monotonic() - self.started[slot]
            what = f"worker {slot} (pid {proc.pid}) {describe_exit(code)}"
            if ran < self.min_uptime:
                return f"{what} {ran:.0f}s after it started; stopping all workers"
            log.error("%s after %.0fs; starting it again", what, ran)
            self.restarts += 1
            self._spawn(slot)
        return None

    def stop(self, grace: float) -> None:
        live = [p for p in self.procs.values() if p.poll() is None]
        for proc in live:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in live:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop within %.0fs: killing it", proc.pid, grace)
                proc.kill()
                proc.wait()


def supervise(pool: WorkerPool, grace: float, poll: float = 0.2) -> str | None:
    """Runs the pool in the foreground until SIGINT/SIGTERM (returns None) or a child that
    could not start (returns why); every child is stopped either way."""
    stopping = False

    def handle(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    problem = None
    try:
        pool.start()
        while not stopping and problem is None:
            problem = pool.check()
            time.sleep(poll)
    finally:
        pool.stop(grace)
        log.info("all %d worker(s) stopped", len(pool.slots))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return problem
