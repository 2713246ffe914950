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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from wendu.devserver import free_port_pair

RULE = "overtime-care-week"
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

    def __init__(self, data_dir: Path, home: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir, self.home = data_dir, home
        self.port = free_port()
        self.temporal_port = free_port_pair(None)
        self.log = data_dir.parent / f"up-{self.port}.log"
        # The suite runs at any hour; quiet hours (tested on the time-skipping server) would
        # rightly hold a week posted at night until 08:00 in Shanghai.
        env = {**clean_env(home), "WENDU_QUIET_HOURS": "off", **(env or {})}
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
        """Until /healthz answers and the banner is out: the API may answer a moment before
        the worker starts and `wendu up` says it is running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"wendu up exited early:\n{self.output()}"
            try:
                healthy = httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200
                if healthy and "Wendu is running" in self.output():
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


def overtime_messages(up: Up, token: str, recipient: str, channel: str | None = None) -> list[dict]:
    """The overtime rule's messages to `recipient` on `channel` (default: the one they prefer)."""
    channel = channel or PREFERS[recipient]
    response = httpx.get(f"{up.url}/api/v1/notifications",
                         params={"recipient": recipient, "channel": channel},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return [n for n in response.json() if n["rule_id"] == RULE]


# The demo's 李娜 (E1002) prefers WeCom, 张伟 (E1004) e-mail.
MANAGER_WECOM, EMPLOYEE_EMAIL = "lina", "zhang.wei@wendu-demo.example"
PREFERS = {MANAGER: "wecom", EMPLOYEE: "email"}


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
    assert str(data_dir) in banner and "wendu demo scenario overtime" in banner
    assert f"wendu demo outbox --data-dir {data_dir}" in banner
    token = (data_dir / "demo-token").read_text().strip()
    assert token in banner

    second = run("up", "--data-dir", str(data_dir), "--port", str(free_port()), home=home)
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert f"{data_dir} is in use by another `wendu up`" in second.stderr

    # No --url: the demo commands find the `wendu up` of their data dir (wendu/running.py).
    assert json.loads((data_dir / "running-api.json").read_text())["url"] == up.url
    week = ["demo", "overtime-week", EMPLOYEE, "--data-dir", str(data_dir), "--wait", "0"]
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
    assert not (data_dir / "running-api.json").exists()
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


# --- the rule library through the running demo --------------------------------------------


class Api:
    """The running demo's API with the demo token."""

    def __init__(self, up: Up) -> None:
        self.url = up.url
        token = (up.data_dir / "demo-token").read_text().strip()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: str) -> list[dict]:
        r = httpx.get(f"{self.url}{path}", params=params, headers=self.headers, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def post_events(self, *events: dict) -> dict:
        r = httpx.post(f"{self.url}/api/v1/events", json={"events": list(events)},
                       headers=self.headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def messages(self, recipient: str, channel: str, template: str | None = None) -> list[dict]:
        found = self.get("/api/v1/notifications", recipient=recipient, channel=channel)
        return [n for n in found if template is None or n["template"] == template]

    def tasks(self, assignee: str) -> list[dict]:
        return self.get("/api/v1/tasks", assignee=assignee)


def until(check, what: str, up: Up, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}:\n{up.output()[-3000:]}")


def scenario(up: Up, name: str, *extra: str) -> str:
    done = run("demo", "scenario", name, *extra, "--url", up.url, "--data-dir", str(up.data_dir),
               "--wait", "0", home=up.home)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def quiet_window_in_utc(minutes_from_now: int) -> tuple[str, datetime]:
    """Quiet hours that hold a recipient on UTC now and end soon; on Shanghai's clock (UTC+8)
    the same window is hours away, so the demo's Shanghai people are reached at once."""
    now = datetime.now(UTC)
    end = (now + timedelta(minutes=minutes_from_now)).replace(second=0, microsecond=0)
    start = now - timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}", end


@pytest.mark.timeout(900)
def test_the_rule_library_reaches_people_through_the_running_demo(tmp_path: Path, ups):
    window, quiet_end = quiet_window_in_utc(3)
    up = Up(tmp_path / "data", tmp_path / "home",
            env={"WENDU_QUIET_HOURS": window, "WENDU_DELIVERY_MAX_ATTEMPTS": "3"})
    ups.append(up)
    up.wait_healthy()
    assert f"Rules        {(tmp_path / 'data' / 'rules').resolve()}" in up.output()
    api = Api(up)

    # A colleague whose night it is (time zone UTC, inside quiet hours): their care message is
    # held by a durable timer until quiet hours end; their manager in Shanghai hears at once.
    from wendu.demo.scenarios import overtime

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    night = {"id": "e2e-hire-E1020", "type": "employee.hired", "employee_id": "E1020",
             "occurred_at": "2024-03-01T09:00:00+00:00",
             "data": {"name": "Tom Night", "hired_on": "2024-03-01", "manager_id": MANAGER,
                      "locale": "en", "timezone": "UTC", "email": "tom.night@wendu-demo.example",
                      "preferred_channels": ["email"]}}
    api.post_events(night, *overtime("E1020", today))
    until(lambda: api.messages(MANAGER, "wecom", "care_overtime_manager"), "the manager", up)
    assert api.messages("E1020", "email") == []  # held, not dropped: checked at the end

    # 1. Overtime care: the manager over WeCom with the project's progress, 张伟 by e-mail.
    out = scenario(up, "overtime")
    assert "fired: overtime-care-week" in out
    manager_note = until(lambda: [n for n in api.messages(MANAGER, "wecom", "care_overtime_manager")
                                  if "张伟" in n["subject"]], "the overtime note", up)
    assert "支付网关重构" in manager_note[0]["body"] and "65%" in manager_note[0]["body"]
    care = until(lambda: api.messages(EMPLOYEE, "email", "care_overtime_employee"), "care", up)
    assert care[0]["locale"] == "zh-CN" and "comp-time" in care[0]["body"]

    # 2. Satisfaction drop: a course for 陈静 with its reward, a note to her manager that
    # names the area and never quotes her feedback.
    assert "fired: satisfaction-drop-course" in scenario(up, "satisfaction-drop")
    course = until(lambda: api.tasks("E1007"), "the course task", up)
    # The course's title in each language; the API answers in hers (zh-CN), with both kept.
    assert len(course) == 1 and set(course[0]["titles"]) == {"zh-CN", "en"}
    assert course[0]["title"] == course[0]["titles"]["zh-CN"] != course[0]["titles"]["en"]
    note = until(lambda: api.messages(MANAGER, "wecom", "course_manager_note"), "the note", up)
    assert "陈静" in note[0]["subject"]
    assert "需求变更" not in note[0]["body"] and "deadlines keep moving" not in note[0]["body"]

    # 3. Needs prediction: 赵磊 (杭州) asks twice about the housing fund; one guide, over WeCom.
    scenario(up, "housing-fund")
    guide = until(lambda: api.messages("E1009", "wecom", "guide_housing_fund"), "the guide", up)
    assert "杭州" in guide[0]["body"] and "https://hr.example.com/service" in guide[0]["body"]
    # David Wu searches in English and is answered in English, by e-mail as he prefers.
    scenario(up, "certificate")
    letter = until(lambda: api.messages("E1008", "email", "guide_certificate"), "the letter", up)
    assert letter[0]["locale"] == "en" and "certificate" in letter[0]["subject"].lower()

    # Resignation intent: the HRBP and the care team, privately; never the manager.
    scenario(up, "resignation")
    def signals() -> list[dict]:
        return [n for hr in ("E1005", "E1006")
                for n in api.messages(hr, "inapp", "resignation_signal")]

    until(lambda: len(signals()) == 2, "the resignation signal to the HRBP and the care team", up)
    assert {n["recipient_id"] for n in signals()} == {"E1005", "E1006"}
    assert all("辞职" not in n["body"] for n in signals())
    assert [n for c in ("inapp", "email", "wecom") for n in api.messages("E1003", c)
            if n["template"] == "resignation_signal"] == []

    # 4 and 6. A review with a weak customer-focus score: a course to-do with its reward, and
    # the scorecard for Grace and her manager, in English.
    assert "fired: review-training" in scenario(up, "review")
    todo = until(lambda: api.tasks("E1010"), "the to-do", up)
    assert "Customer" in todo[0]["title"]
    cards = until(lambda: api.messages("E1003", "email", "scorecard_result"), "scorecard", up)
    assert "/100" in cards[0]["subject"] and cards[0]["locale"] == "en"

    # 7. A new hire: the check-ins are waiting on their 30-day timer.
    assert "fired: newhire-checkins" in scenario(up, "new-hire")

    # 5. The weekly attrition scan, run now: 陈静's falling satisfaction makes her manager's
    # retention task, due in 3 days, with HR as the escalation.
    assert "ran attrition-scan-weekly now" in scenario(up, "attrition-scan")
    retention = until(lambda: [t for t in api.tasks(MANAGER) if "陈静" in t["title"]],
                      "the retention task", up)
    assert retention[0]["rule_id"] == "attrition-scan-weekly"
    # The trained model reads her profile (pay below band, a long commute, a month of long
    # days); each top factor comes with something to try, none with the generic fallback.
    [talk] = until(lambda: [n for n in api.messages(MANAGER, "inapp", "retention_task")
                            if "陈静" in n["subject"]], "the retention message", up)
    assert "%）" in talk["body"] and "了解 TA 的想法" not in talk["body"]

    # 陈静 takes the course: her to-do completes itself (done_when), nobody needs to tick it off.
    from wendu.scorers.courses import load_catalog

    course = next(c for c in load_catalog() if c.title["en"] == course[0]["titles"]["en"])
    api.post_events({"id": "e2e-course-done", "type": "training.completed",
                     "employee_id": "E1007", "occurred_at": datetime.now(UTC).isoformat(),
                     "data": {"course_id": course.id, "rating": 4.5}})
    until(lambda: api.tasks("E1007")[0]["status"] == "completed", "the course to-do", up)
    assert api.tasks("E1007")[0]["comment"] == "training.completed e2e-course-done"

    # Exactly once: every scenario again, nothing new fires and nobody hears twice.
    for name in ("overtime", "satisfaction-drop", "housing-fund", "certificate", "resignation",
                 "review", "new-hire"):
        assert "no rule fired" in scenario(up, name), name
    time.sleep(3)
    assert len(api.messages("E1009", "wecom", "guide_housing_fund")) == 1
    assert len(api.messages(EMPLOYEE, "email", "care_overtime_employee")) == 1
    assert len(api.tasks("E1007")) == 1 and len(api.tasks("E1010")) == 1
    records, _ = outbox(up.data_dir, up.home)
    assert len([r for r in records if r["to"] == ["zhaolei"]]) == 1  # the guide, once

    # A failing WeCom: retried (3 attempts here), then recorded as failed, visible to HR.
    done = run("demo", "wecom-outage", "--calls", "50", "--data-dir", str(up.data_dir),
               home=up.home)
    assert done.returncode == 0 and "errcode -1" in done.stdout, done.stderr
    scenario(up, "overtime", "--employee", "E1009")
    failed = until(lambda: [n for n in api.get("/api/v1/notifications", status="failed")
                            if n["channel"] == "wecom"], "the recorded failures", up, 90)
    assert {n["recipient_id"] for n in failed} <= {"E1009", MANAGER}
    assert all(n["attempts"] == 3 and "gave up after 3 attempts" in n["error"] for n in failed)
    run("demo", "wecom-outage", "--calls", "0", "--data-dir", str(up.data_dir), home=up.home)

    # The held care message arrives when quiet hours end, once, in English, by e-mail.
    wait = (quiet_end - datetime.now(UTC)).total_seconds()
    held = until(lambda: [n for n in api.messages("E1020", "email") if n["status"] == "delivered"],
                 "the held message", up, max(wait, 0) + 60)
    assert len(held) == 1 and held[0]["locale"] == "en"
    assert datetime.fromisoformat(held[0]["sent_at"]).replace(tzinfo=UTC) >= quiet_end
    assert up.interrupt() == 0, up.output()
