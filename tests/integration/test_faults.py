"""Wendu under faults, as an operator meets them, on SQLite and on PostgreSQL.

One stack per database: `wendu up` as its own process group with its embedded Temporal dev
server, against an SMTP sink and a WeCom sandbox that the test owns and breaks on purpose:
- the SMTP sink and the WeCom sandbox go away while messages are on their way: each delivery
  is retried, then recorded (sent once when its server is back, failed when it never is);
- the Temporal dev server hangs, then dies, while events keep arriving: the API answers every
  post, the firings wait `pending`, `wendu up` starts the server again on its file, and
  each firing starts once;
- the whole stack is killed with SIGKILL during a burst of posts: after the restart every
  acknowledged event is stored, every firing starts (the reconciler) and nobody hears twice.

Every wait is on a condition with a generous deadline: the suite runs on a busy 2-core machine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.integration.fault_stack import SENDER, SmtpSink, Up, WeCom, wait_until
from tests.pg_schema import drop_schema, new_schema, schema_url
from wendu.channels.email import message_id
from wendu.demo import wecom_sandbox
from wendu.store.db import make_engine, make_session_factory, upgrade
from wendu.store.models import Event, Firing, Notification
from wendu.tokens import create_token

pytestmark = pytest.mark.timeout(300)

# Attempts at a delivery before it is recorded failed: with the notifier's backoff (1 s,
# doubling) the last one comes some 7 s after the first.
MAX_ATTEMPTS = 4

OVERTIME_RULE = """\
id: fault-overtime
version: 1
title: {zh: 加班关怀, en: Overtime care}
trigger: {event: attendance.day_closed}
when:
  - event.overtime_hours >= 3
dedupe: "{{ employee.id }}/{{ event.day }}"
steps:
  - notify: {to: employee, channels: [preferred], template: overtime_care}
"""

CHAT_RULE = """\
id: fault-chat-payroll
version: 1
title: {zh: 工资咨询, en: Payroll question}
trigger: {event: chat.message}
when:
  - "score.intent.label == 'payroll' and score.intent.value >= 0.5"
dedupe: "{{ employee.id }}/{{ event.id }}"
steps:
  - set:
      service_url: "'https://hr.example.com/service'"
  - notify: {to: employee, channels: [preferred], template: guide_payroll}
"""


def email_of(emp: str) -> str:
    return f"{emp.lower()}@faults.example"


def wecom_of(emp: str) -> str:
    return emp.lower()


def hire(emp: str, channel: str) -> dict:
    return {"id": f"hire-{emp}", "type": "employee.hired", "employee_id": emp,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"name": f"Staff {emp}", "hired_on": "2024-03-01", "locale": "en",
                     "email": email_of(emp), "wecom_userid": wecom_of(emp),
                     "preferred_channels": [channel]}}


def late_day(emp: str, tag: str, days_ago: int = 0) -> dict:
    day = (datetime.now(UTC) - timedelta(days=days_ago)).date()
    return {"id": f"att-{emp}-{tag}", "type": "attendance.day_closed", "employee_id": emp,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"day": day.isoformat(), "clock_in": f"{day}T09:00:00+08:00",
                     "clock_out": f"{day}T22:30:00+08:00", "overtime_hours": 4.5}}


def payroll_question(emp: str, tag: str) -> dict:
    return {"id": f"chat-{emp}-{tag}", "type": "chat.message", "employee_id": emp,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"text": "工资什么时候发？工资条在哪里看？", "channel": "wecom"}}


class Stack:
    def __init__(self, root: Path, db_url: str) -> None:
        self.db_url = db_url
        self.engine = make_engine(db_url)
        self.factory = make_session_factory(self.engine)
        users = {wecom_of(f"W{i:03d}") for i in range(10)}
        self.smtp, self.wecom = SmtpSink(), WeCom(users)
        rules = root / "rules"
        rules.mkdir()
        (rules / "overtime.yaml").write_text(OVERTIME_RULE, encoding="utf-8")
        (rules / "chat.yaml").write_text(CHAT_RULE, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WENDU_")}
        env.update({
            "WENDU_HOME": str(root / "home"),
            "WENDU_ENVIRONMENT": "test",
            "WENDU_DATABASE_URL": db_url,
            "WENDU_QUIET_HOURS": "", "WENDU_DAILY_CAP": "0", "WENDU_WORK_CALENDAR": "off",
            "WENDU_MAX_EVENT_AGE": "off",
            # The reconciler's first retry after 1 s, doubling: a test's outage is seconds.
            "WENDU_FIRING_RETRY_SECONDS": "1",
            "WENDU_DELIVERY_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "WENDU_SMTP_HOST": "127.0.0.1", "WENDU_SMTP_PORT": str(self.smtp.port),
            "WENDU_SMTP_STARTTLS": "false", "WENDU_SMTP_FROM": SENDER,
            "WENDU_WECOM_CORP_ID": wecom_sandbox.CORP_ID,
            "WENDU_WECOM_SECRET": wecom_sandbox.SECRET,
            "WENDU_WECOM_AGENT_ID": str(wecom_sandbox.AGENT_ID),
            "WENDU_WECOM_BASE_URL": self.wecom.url,
        })
        self.up = Up(root / "data", rules, env)
        with self.factory.begin() as session:
            self.up.token = create_token(session, "faults", ["events:write",
                                                             "notifications:read"])

    def start(self) -> None:
        self.smtp.start()
        self.wecom.start()
        self.up.start()
        self.up.wait_healthy()

    def restart_up(self) -> None:
        token = self.token
        self.up = Up(self.up.data_dir, self.up.rules, self.up.env, self.up.temporal_port)
        self.up.token = token
        self.up.start()
        self.up.wait_healthy()

    @property
    def token(self) -> str:
        return self.up.token

    def close(self) -> None:
        self.up.kill_group()  # a clean stop is test_up's; here it would only cost time
        self.up.stop()  # and its dev server
        self.smtp.stop()
        self.wecom.stop()
        self.engine.dispose()

    # --- what a user or HR would look at -----------------------------------------------------

    def post_ok(self, events: list[dict]) -> dict:
        r = self.up.post(events)
        assert r.status_code == 200, r.text
        return r.json()

    def notifications(self, recipient: str) -> list[Notification]:
        with self.factory() as s:
            return list(s.scalars(select(Notification)
                                  .where(Notification.recipient_id == recipient)))

    def firings(self, **where: str) -> list[Firing]:
        with self.factory() as s:
            q = select(Firing)
            for k, v in where.items():
                q = q.where(getattr(Firing, k) == v)
            return list(s.scalars(q))

    def log(self) -> str:
        return self.up.output()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp(f"faults-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'wendu.db'}"
    else:
        schema = new_schema()
        url = schema_url(schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    built = Stack(root, url)
    try:
        built.start()
        built.post_ok([hire(f"W{i:03d}", "wecom") for i in range(10)]
                      + [hire(f"M{i:03d}", "email") for i in range(10)]
                      + [hire(f"B{i:03d}", "email") for i in range(BURST)])
        yield built
    finally:
        built.close()
        if schema:
            drop_schema(schema)


def only(rows: list[Notification]) -> Notification | None:
    assert len(rows) <= 1, [(r.key, r.status) for r in rows]
    return rows[0] if rows else None


def retried(stack: Stack, emp: str) -> Notification | None:
    """The employee's one message once a delivery attempt has failed and it waits to retry."""
    row = only(stack.notifications(emp))
    return row if row and row.status == "pending" and row.attempts >= 1 and row.error else None


def settled(stack: Stack, emp: str, status: str) -> Notification | None:
    row = only(stack.notifications(emp))
    return row if row and row.status == status else None


# --- 1. the channels' far ends go away ------------------------------------------------------


def test_smtp_and_wecom_going_away_mid_delivery_retry_then_record_once(stack: Stack) -> None:
    """Both servers go away with a message on its way to each: both are retried; the SMTP
    sink comes back and its message is sent once, the WeCom sandbox does not (in time) and
    its message is recorded failed, for HR to see, and is not sent when WeCom is back."""
    mail_emp, wecom_emp = "M000", "W000"
    stack.smtp.stop()
    stack.wecom.stop()
    stack.post_ok([late_day(mail_emp, "outage"), late_day(wecom_emp, "outage")])
    # Back as soon as a first attempt has failed, well before the last one (some 7 s on).
    wait_until(lambda: retried(stack, mail_emp), "a failed attempt at the e-mail", log=stack.log)
    stack.smtp.start()
    sent = wait_until(lambda: settled(stack, mail_emp, "delivered"),
                      "the e-mail once the SMTP sink is back", log=stack.log)
    failed = wait_until(lambda: settled(stack, wecom_emp, "failed"),
                        "the WeCom message recorded failed", log=stack.log)
    assert sent.attempts >= 2 and sent.sent_at is not None
    assert failed.attempts == MAX_ATTEMPTS and failed.sent_at is None
    assert f"gave up after {MAX_ATTEMPTS} attempts" in failed.error
    assert "unreachable" in failed.error or "connect" in failed.error.lower()
    # HR sees the failure where failures are listed.
    listed = httpx.get(f"{stack.up.url}/api/v1/notifications",
                       params={"status": "failed", "recipient": wecom_emp},
                       headers={"Authorization": f"Bearer {stack.token}"}, timeout=30)
    assert listed.status_code == 200 and [n["id"] for n in listed.json()] == [failed.id]
    # Received exactly once at the far end that came back; both firings are done with.
    assert stack.smtp.per_message_id()[message_id(sent.key, SENDER)] == 1
    assert stack.smtp.to(email_of(mail_emp)) == 1
    for emp in (mail_emp, wecom_emp):
        assert [f.status for f in stack.firings(employee_id=emp)] == ["started"]
    stack.wecom.start()  # back for the next tests; the failed message stays failed
    assert stack.wecom.sends_to(wecom_of(wecom_emp)) == 0


# --- 2. Temporal goes away while the API keeps accepting -----------------------------------


def test_temporal_hung_then_killed_api_keeps_accepting_and_every_firing_starts_once(
    stack: Stack,
) -> None:
    """The embedded dev server hangs (SIGSTOP), then dies (SIGKILL): the API answers every
    post meanwhile, the firings wait pending, and `wendu up` starts the server again on its
    file, after which each firing starts once and each message goes out once."""
    people = [f"M{i:03d}" for i in range(2, 6)] + [f"W{i:03d}" for i in range(2, 6)]
    [server] = stack.up.dev_servers()
    os.kill(server, signal.SIGSTOP)
    fired: list[str] = []
    try:
        for emp in people:
            event = payroll_question(emp, "outage") if emp.startswith("M") else late_day(emp, "x")
            result = stack.post_ok([event])["results"][0]
            assert result["status"] == "accepted", result
            fired += [f["workflow_id"] for f in result["fired"]]
        assert len(fired) == len(people)
        health = httpx.get(f"{stack.up.url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "ok"
        rows = [f for emp in people for f in stack.firings(employee_id=emp)]
        assert {f.workflow_id for f in rows} == set(fired)
        assert {f.status for f in rows} == {"pending"}
        # The background starter tried, failed and kept the firing pending for another go.
        tried = wait_until(lambda: [f for emp in people for f in stack.firings(employee_id=emp)
                                    if f.attempts >= 1], "a failed start", log=stack.log)
        assert all(f.status == "pending" and f.error for f in tried), [
            (f.status, f.error) for f in tried]
    finally:
        os.kill(server, signal.SIGKILL)
    wait_until(lambda: "ready again" in stack.log(), "wendu up to start Temporal again",
               log=stack.log)
    assert stack.up.proc.poll() is None and stack.up.dev_servers() not in ([], [server])
    wait_until(lambda: all(f.status == "started" for emp in people
                           for f in stack.firings(employee_id=emp)),
               "every firing started after Temporal came back", log=stack.log)
    for emp in people:
        row = wait_until(lambda emp=emp: settled(stack, emp, "delivered"), f"{emp}'s message",
                         log=stack.log)
        if emp.startswith("M"):
            assert stack.smtp.per_message_id()[message_id(row.key, SENDER)] == 1
        else:
            assert len(stack.wecom.delivered_to(wecom_of(emp))) == 1
    assert httpx.get(f"{stack.up.url}/healthz", timeout=30).status_code == 200


# --- 3. SIGKILL of everything during a burst ------------------------------------------------

BURST = 60


def test_sigkill_of_the_whole_stack_during_a_burst_loses_nothing(stack: Stack) -> None:
    people = [f"B{i:03d}" for i in range(BURST)]
    events = [late_day(emp, "burst") if i % 2 else payroll_question(emp, "burst")
              for i, emp in enumerate(people)]
    acked: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def post(event: dict) -> None:
        if killed.is_set():
            return
        try:
            r = stack.up.post([event], timeout=30)
        except httpx.HTTPError:
            return  # the stack died under this request: not acknowledged
        if r.status_code == 200:
            assert r.json()["results"][0]["status"] == "accepted", r.text
            with lock:
                acked.append(event["id"])

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, e) for e in events]
        wait_until(lambda: len(acked) >= BURST // 3, "a third of the burst acknowledged",
                   log=stack.log)
        # The group: the API, the worker and their loop. The dev server runs in a group of
        # its own and follows its parent down (SIGTERM on the parent's death).
        stack.up.kill_group()
        killed.set()
        for f in futures:
            f.result()
    assert BURST // 3 <= len(acked) < BURST, len(acked)

    restarted_at = time.time()
    stack.restart_up()  # at once: on the same port, while the old dev server shuts down
    assert len(stack.up.dev_servers()) == 1
    with stack.factory() as s:
        stored = set(s.scalars(select(Event.id).where(Event.id.in_(acked))))
    assert stored == set(acked), "acknowledged events lost"
    burst_ids = [e["id"] for e in events]

    def firings_of_burst() -> list[Firing]:
        with stack.factory() as s:
            return list(s.scalars(select(Firing).where(Firing.event_id.in_(burst_ids))))

    # Every acknowledged event fired (its firing was committed with it), and every firing
    # of the burst starts, the ones the kill left pending through the reconciler.
    assert {f.event_id for f in firings_of_burst()} >= set(acked)
    wait_until(lambda: all(f.status == "started" for f in firings_of_burst()),
               "every firing of the burst started", log=stack.log)
    fired = {f.employee_id for f in firings_of_burst()}
    for emp in fired:
        wait_until(lambda emp=emp: settled(stack, emp, "delivered"), f"{emp}'s message",
                   timeout=120, log=stack.log)
    # Nobody heard twice: one message per firing, under one Message-ID (its notification
    # key), received once. The one exception is the design's: a message the kill caught
    # between the sink's "250" and the row marked delivered has an unknown outcome, so it
    # is sent again, under the same Message-ID, which mail clients fold into one. So a
    # second copy is only ever of a message whose first copy arrived before the kill.
    for emp in fired:
        row = only(stack.notifications(emp))
        seen = stack.smtp.times(message_id(row.key, SENDER))
        assert seen, f"{emp}'s message is marked delivered but never arrived"
        if len(seen) > 1:
            assert len(seen) == 2 and seen[0] < restarted_at <= seen[1], (emp, seen)
    for emp in fired:  # and no other message reached them
        assert len(stack.smtp.message_ids_to(email_of(emp))) == 1, emp
    with stack.factory() as s:
        keys = s.scalar(select(func.count(func.distinct(Notification.key)))
                        .where(Notification.recipient_id.in_(people)))
        assert keys == len(fired)
    # Posting the whole burst again (a producer retrying what it never got an answer to)
    # stores what was lost in flight, and fires nothing twice.
    again = stack.post_ok(events)["results"]
    assert all(r["status"] == "duplicate" and not r["fired"]
               for r in again if r["id"] in acked)
