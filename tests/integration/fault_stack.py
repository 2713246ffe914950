"""The pieces of a running Wendu that the fault tests break on purpose.

`wendu up` runs as its own OS process group, with its embedded Temporal dev server, against
an SMTP sink and a WeCom sandbox that the test owns: each of those can be stopped and brought
back on the same port while the rest keeps running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx

from wendu.demo import wecom_sandbox
from wendu.devserver import DevServer, free_port_pair

SENDER = "wendu@faults.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], what: str, timeout: float = 90.0,
               log: Callable[[], str] | None = None) -> Any:
    """`check()` once it is truthy; generous deadlines, short polls, no fixed sleeps."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            tail = log()[-4000:] if log else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")
        time.sleep(0.2)


class SmtpSink:
    """A real aiosmtpd server that counts what it accepted per Message-ID; stoppable."""

    def __init__(self) -> None:
        self.port = free_port()
        # (Message-ID, recipients, when accepted): what reached the far end, in order.
        self.received: list[tuple[str, tuple[str, ...], float]] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mail = message_from_bytes(envelope.original_content or envelope.content,
                                  policy=policy.default)
        with self._lock:
            self.received.append((str(mail["Message-ID"]), tuple(envelope.rcpt_tos),
                                  time.time()))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def per_message_id(self) -> Counter[str]:
        with self._lock:
            return Counter(mid for mid, _, _ in self.received)

    def to(self, address: str) -> int:
        with self._lock:
            return sum(1 for _, rcpts, _ in self.received if address in rcpts)

    def message_ids_to(self, address: str) -> set[str]:
        with self._lock:
            return {mid for mid, rcpts, _ in self.received if address in rcpts}

    def times(self, mid: str) -> list[float]:
        with self._lock:
            return [t for m, _, t in self.received if m == mid]


class WeCom:
    """The local WeCom sandbox on a fixed port; a restart keeps what it received."""

    def __init__(self, users: set[str]) -> None:
        self.port = free_port()
        self.state = wecom_sandbox.WeComState(users=set(users))
        self._server: wecom_sandbox.WeComServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server = wecom_sandbox.WeComServer()
        server.state = self.state
        self._server = server.start(self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def delivered_to(self, userid: str) -> list[dict]:
        with self.state.lock:
            return [m for m in self.state.messages if userid in m["delivered_to"]]

    def sends_to(self, userid: str) -> int:
        """message/send calls for `userid` that WeCom accepted (a repeat it suppressed too)."""
        with self.state.lock:
            return sum(1 for c in self.state.calls if c.get("touser") == userid)


def wendu_bin() -> str:
    return str(Path(sys.executable).parent / "wendu")


class Up:
    """`wendu up` in its own process group (so it can be killed as a whole), with its
    embedded Temporal dev server on a fixed port, so a restart asks for the same one."""

    def __init__(self, data_dir: Path, rules: Path, env: dict[str, str],
                 temporal_port: int | None = None) -> None:
        self.data_dir, self.rules, self.env = data_dir, rules, env
        self.port = free_port()
        self.temporal_port = temporal_port or free_port_pair(None)
        self.log = data_dir.parent / "up.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            out.write(f"\n--- wendu up on port {self.port}\n".encode())
            self.proc = subprocess.Popen(
                [wendu_bin(), "up", "--data-dir", str(self.data_dir), "--port", str(self.port),
                 "--rules", str(self.rules), "--temporal-port", str(self.temporal_port)],
                stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def dev_servers(self) -> list[int]:
        """Pids of the Temporal dev servers running on this data dir's file."""
        return DevServer(self.data_dir).orphans()

    def wait_healthy(self, timeout: float = 120) -> None:
        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, (
                f"wendu up exited:\n{self.output()[-4000:]}")
            try:
                ok = httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200
            except httpx.HTTPError:
                return False
            return ok and "Wendu is running" in self.output()

        wait_until(ready, "wendu up to be healthy", timeout, self.output)

    def kill_group(self) -> None:
        """SIGKILL to every process of the group: nothing gets to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill_group()
        for pid in self.dev_servers():  # whatever happened, leave no server behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def post(self, events: list[dict], timeout: float = 60) -> httpx.Response:
        return httpx.post(f"{self.url}/api/v1/events", json={"events": events},
                          headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout)
