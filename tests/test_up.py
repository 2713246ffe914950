"""`wendu up --demo` end to end, as a user runs it: a separate process with its own Temporal
dev server, WeCom sandbox and SMTP sink, the demo rule fired over HTTP, what reached the inbox,
WeCom and e-mail, Ctrl-C, and a restart on the same data dir."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from wendu.devserver import free_port_pair

RULE = "overtime-care"
EMPLOYEE, MANAGER = "E1004", "E1002"


def wendu_bin() -> str:
    beside = Path(sys.executable).parent / "wendu"
    return str(beside) if beside.exists() else (shutil.which("wendu") or "wendu")


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENDU_")}
    return {**env, "WENDU_HOME": str(home)}


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([wendu_bin(), *args], capture_output=True, text=True,
                          env=clean_env(home), timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Up:
    """One `wendu up --demo` process and what it prints."""

    def __init__(self, data_dir: Path, home: Path) -> None:
        self.data_dir, self.home = data_dir, home
        self.port = free_port()
        self.temporal_port = free_port_pair(None)
        self.log = data_dir.parent / f"up-{self.port}.log"
        # The suite runs at any hour; quiet hours (tested on the time-skipping server) would
        # rightly hold a week posted at night until 08:00 in Shanghai.
        env = {**clean_env(home), "WENDU_QUIET_HOURS": "off"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [wendu_bin(), "up", "--demo", "--data-dir", str(data_dir), "--port", str(self.port),
                 "--temporal-port", str(self.temporal_port)],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"wendu up exited early:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"/healthz did not answer within {timeout}s:\n{self.output()}")

    def interrupt(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            pytest.fail(f"wendu up did not stop within {timeout}s of SIGINT:\n{self.output()}")


def dev_servers_using(data_dir: Path) -> list[int]:
    """Pids of processes whose command line names this data dir's Temporal file."""
    needle = str(data_dir / "temporal.db").encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def accepts_connections(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def overtime_messages(up: Up, token: str, recipient: str, channel: str = "inapp") -> list[dict]:
    response = httpx.get(f"{up.url}/api/v1/notifications",
                         params={"recipient": recipient, "channel": channel},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return [n for n in response.json() if n["rule_id"] == RULE]


# The demo's 李娜 (E1002) prefers WeCom, 张伟 (E1004) e-mail.
MANAGER_WECOM, EMPLOYEE_EMAIL = "lina", "zhang.wei@wendu-demo.example"


def outbox(data_dir: Path, home: Path) -> tuple[list[dict], str]:
    """What `wendu demo outbox` lists: (its JSON records, its human-readable listing)."""
    raw = run("demo", "outbox", "--json", "--data-dir", str(data_dir), home=home)
    listing = run("demo", "outbox", "--data-dir", str(data_dir), home=home)
    assert raw.returncode == 0 and listing.returncode == 0, raw.stderr + listing.stderr
    return [json.loads(line) for line in raw.stdout.splitlines()], listing.stdout


def outside_messages(data_dir: Path, home: Path) -> tuple[list[dict], list[dict], str]:
    records, listing = outbox(data_dir, home)
    wecom = [r for r in records if r["channel"] == "wecom" and r["to"] == [MANAGER_WECOM]]
    email = [r for r in records if r["channel"] == "email" and r["to"] == [EMPLOYEE_EMAIL]]
    return wecom, email, listing


def wait_for_outside_messages(up: Up, timeout: float = 60) -> tuple[list[dict], list[dict], str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wecom, email, listing = outside_messages(up.data_dir, up.home)
        if wecom and email:
            return wecom, email, listing
        time.sleep(0.5)
    pytest.fail(f"the WeCom sandbox or SMTP sink got nothing within {timeout}s:\n"
                f"{listing}\n{up.output()}")


def wait_for_messages(up: Up, token: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = [len(overtime_messages(up, token, p)) for p in (EMPLOYEE, MANAGER)]
        if counts == [1, 1]:
            return
        assert max(counts) <= 1, f"more than one message: {counts}"
        time.sleep(0.5)
    pytest.fail(f"no overtime message for {EMPLOYEE} and {MANAGER} within {timeout}s:\n"
                f"{up.output()}")


def week_end() -> str:
    # The rule fires once per employee per ISO week; on a Monday the six days straddle two
    # weeks and it would rightly fire twice, so the week then ends on Sunday.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today - timedelta(days=1) if today.weekday() == 0 else today).isoformat()


async def workflow_status(port: int, workflow_id: str) -> WorkflowExecutionStatus | None:
    client = await Client.connect(f"127.0.0.1:{port}")
    description = await client.get_workflow_handle(workflow_id).describe()
    return description.status


@pytest.fixture
def ups(tmp_path: Path) -> Iterator[list[Up]]:
    started: list[Up] = []
    yield started
    for up in started:  # whatever happened, leave no process behind
        if up.proc.poll() is None:
            up.proc.kill()
            up.proc.wait(timeout=10)
        for pid in dev_servers_using(up.data_dir):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(600)
def test_up_demo_fires_the_overtime_rule_once_and_survives_a_restart(tmp_path: Path, ups):
    data_dir, home = tmp_path / "data", tmp_path / "home"
    up = Up(data_dir, home)
    ups.append(up)
    up.wait_healthy()
    banner = up.output()
    assert up.url in banner and f"http://127.0.0.1:{up.temporal_port + 1000}" in banner
    assert str(data_dir) in banner and "wendu demo overtime-week E1004" in banner
    assert f"wendu demo outbox --data-dir {data_dir}" in banner
    token = (data_dir / "demo-token").read_text().strip()
    assert token in banner

    second = run("up", "--data-dir", str(data_dir), "--port", str(free_port()), home=home)
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert f"{data_dir} is in use by another `wendu up`" in second.stderr

    week = ["demo", "overtime-week", EMPLOYEE, "--url", up.url, "--data-dir", str(data_dir),
            "--end", week_end(), "--wait", "0"]
    first = run(*week, home=home)
    assert first.returncode == 0, first.stderr
    assert "6 new" in first.stdout and f"fired: {RULE}" in first.stdout
    workflow_id = re.search(r"workflow (rule/\S+)\)", first.stdout).group(1)
    wait_for_messages(up, token)
    # Beyond the inbox, each is reached where they prefer: the manager over the local WeCom
    # sandbox, the employee over SMTP, and `wendu demo outbox` shows what arrived there.
    wecom, email, listing = wait_for_outside_messages(up)
    assert "wecom" in listing and MANAGER_WECOM in listing
    assert "email" in listing and EMPLOYEE_EMAIL in listing
    assert "张伟" in wecom[0]["text"] and email[0]["from"] == "wendu@wendu-demo.example"
    assert [n["status"] for n in overtime_messages(up, token, MANAGER, "wecom")] == ["delivered"]
    assert [n["status"] for n in overtime_messages(up, token, EMPLOYEE, "email")] == ["delivered"]
    assert overtime_messages(up, token, MANAGER, "email") == []  # not a channel 李娜 chose

    again = run(*week, home=home)
    assert again.returncode == 0, again.stderr
    assert "0 new, 6 already known" in again.stdout and "no rule fired" in again.stdout
    time.sleep(3)  # give a wrongly started second workflow the time to deliver
    assert [len(overtime_messages(up, token, p)) for p in (EMPLOYEE, MANAGER)] == [1, 1]
    wecom, email, _ = outside_messages(data_dir, home)
    assert (len(wecom), len(email)) == (1, 1)

    assert up.interrupt() == 0, up.output()
    assert "Wendu stopped." in up.output()
    assert dev_servers_using(data_dir) == []
    assert not accepts_connections(up.port) and not accepts_connections(up.temporal_port)

    restarted = Up(data_dir, home)
    ups.append(restarted)
    restarted.wait_healthy()
    assert (data_dir / "demo-token").read_text().strip() == token  # the token is reused
    assert [len(overtime_messages(restarted, token, p)) for p in (EMPLOYEE, MANAGER)] == [1, 1]
    wecom, email, _ = outside_messages(data_dir, home)  # the outbox is kept in the data dir
    assert (len(wecom), len(email)) == (1, 1)
    # The workflow's history lives in the dev server's SQLite file, so Temporal still has it.
    status = asyncio.run(workflow_status(restarted.temporal_port, workflow_id))
    assert status in (WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.RUNNING)
    assert restarted.interrupt() == 0, restarted.output()
    assert dev_servers_using(data_dir) == []
