"""The real stack for the end-to-end benchmarks: `wendu up --demo` on free ports, its own data dir.

Quiet hours and the daily cap are off, so every message a rule sends goes out at once over the
demo's WeCom sandbox and SMTP sink, and a benchmark measures the engine, not the policy.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from wendu.devserver import free_port_pair


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wendu_bin() -> str:
    beside = Path(sys.executable).parent / "wendu"
    return str(beside) if beside.exists() else (shutil.which("wendu") or "wendu")


class Stack:
    def __init__(self, root: Path, workers: int = 1) -> None:
        self.data_dir = root / "data"
        self.port, self.temporal_port = free_port(), free_port_pair(None)
        self.log = root / "up.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WENDU_")}
        env.update(WENDU_HOME=str(root / "home"), WENDU_QUIET_HOURS="off",
                   WENDU_DAILY_CAP="0")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [wendu_bin(), "up", "--demo", "--data-dir", str(self.data_dir),
                 "--port", str(self.port), "--temporal-port", str(self.temporal_port),
                 "--workers", str(workers)],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 300) -> str:
        """Until the API answers and `wendu up` says it is running; the demo token."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"wendu up exited:\n{self.log.read_text(errors='replace')}")
            try:
                healthy = httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy and "Wendu is running" in self.log.read_text(errors="replace"):
                return (self.data_dir / "demo-token").read_text().strip()
            time.sleep(0.5)
        raise SystemExit("wendu up did not become ready")

    def processes(self) -> list[tuple[int, str]]:
        """(pid, command line) of `wendu up` and every process under it, parents first."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                # The command name is in parentheses and may hold spaces: split after it.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop(0)
            try:
                argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            out.append((pid, " ".join(a.decode(errors="replace") for a in argv if a)))
            todo += sorted(children.get(pid, []))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def rss_kib(pid: int) -> int | None:
    """Resident set size of a process, KiB (None: it is gone)."""
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used so far (None: it is gone)."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime: fields 14 and 15 of stat, 12 and 13 after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def company(n: int) -> list[dict]:
    """`employee.hired` events for n people under the demo's engineering manager and HRBP."""
    return [{"id": f"bench-hire-{i}", "type": "employee.hired", "employee_id": f"B{i:05d}",
             "occurred_at": "2026-01-05T09:00:00+08:00",
             "data": {"name": f"员工{i}", "hired_on": "2024-03-01", "manager_id": "E1002",
                      "hrbp_id": "E1011", "locale": "zh-CN", "timezone": "Asia/Shanghai"}}
            for i in range(n)]
