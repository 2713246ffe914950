"""The demo's delivery channels: a local WeCom sandbox and a local SMTP sink, both recording.

`wendu up --demo` starts both on free local ports and points the WeCom and e-mail channels at
them, so the demo's messages really travel over HTTP and SMTP through the production channel
code. Everything they accept is appended to `<data dir>/outbox.jsonl`, one JSON line per
message (a file, so it survives a restart); `wendu demo outbox` lists it.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from typer import echo

from wendu.demo import wecom_sandbox

OUTBOX_FILE = "outbox.jsonl"
# Where the running sandbox listens, for `wendu demo wecom-outage`; removed when it stops.
WECOM_URL_FILE = "wecom-sandbox-url"
SENDER = "wendu@wendu-demo.example"


def outbox_path(data_dir: Path) -> Path:
    return data_dir / OUTBOX_FILE


class _SinkHandler:
    """aiosmtpd handler: accept every message and record it in the outbox."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        plain = mail.get_body(preferencelist=("plain",))
        wecom_sandbox.append_json_line(self.outbox, {
            "channel": "email", "via": "smtp", "received_at": datetime.now(UTC).isoformat(),
            "to": list(envelope.rcpt_tos), "from": envelope.mail_from,
            "subject": str(mail.get("Subject", "")), "message_id": str(mail.get("Message-ID", "")),
            "text": plain.get_content().strip() if plain is not None else "",
        })
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DemoChannels:
    """The running sandbox and sink; `settings()` is what the worker needs to use them."""

    wecom: wecom_sandbox.WeComServer
    smtp: Any  # aiosmtpd's Controller
    outbox: Path

    @classmethod
    def start(cls, data_dir: Path, wecom_users: set[str]) -> DemoChannels:
        from aiosmtpd.controller import Controller

        outbox = outbox_path(data_dir)
        wecom = wecom_sandbox.WeComServer(users=wecom_users, outbox=outbox).start()
        smtp = Controller(_SinkHandler(outbox), hostname="127.0.0.1", port=_free_port())
        try:
            smtp.start()
        except BaseException:
            wecom.stop()
            raise
        (data_dir / WECOM_URL_FILE).write_text(wecom.url + "\n")
        return cls(wecom, smtp, outbox)

    @property
    def smtp_address(self) -> str:
        return f"{self.smtp.hostname}:{self.smtp.port}"

    def settings(self) -> dict[str, Any]:
        return {
            "wecom_corp_id": wecom_sandbox.CORP_ID,
            "wecom_secret": wecom_sandbox.SECRET,
            "wecom_agent_id": wecom_sandbox.AGENT_ID,
            "wecom_token": wecom_sandbox.TOKEN,
            "wecom_aes_key": wecom_sandbox.AES_KEY,
            "wecom_base_url": self.wecom.url,
            "smtp_host": self.smtp.hostname,
            "smtp_port": self.smtp.port,
            # A sink on the loopback interface: no TLS to negotiate, no account to log in to.
            "smtp_starttls": False,
            "smtp_username": "",
            "smtp_from": SENDER,
        }

    def stop(self) -> None:
        (self.outbox.parent / WECOM_URL_FILE).unlink(missing_ok=True)
        try:
            self.smtp.stop()
        finally:
            self.wecom.stop()


def wecom_outage(data_dir: Path, calls: int, errcode: int) -> str:
    """Make the running demo's WeCom sandbox fail its next `calls` sends (0: end the outage)."""
    import httpx

    from wendu.cli.common import UserError

    try:
        url = (data_dir / WECOM_URL_FILE).read_text().strip()
    except OSError:
        raise UserError(f"no WeCom sandbox is running for {data_dir}: start "
                        "`wendu up --demo` (with the same --data-dir)") from None
    try:
        response = httpx.post(url + wecom_sandbox.OUTAGE_PATH,
                              json={"calls": calls, "errcode": errcode}, timeout=10)
    except httpx.HTTPError as exc:
        raise UserError(f"the WeCom sandbox at {url} did not answer: {exc}") from None
    if response.status_code != 200 or response.json().get("errcode") != 0:
        raise UserError(f"the WeCom sandbox at {url} refused: {response.text[:200]}")
    if calls <= 0:
        return f"the WeCom sandbox at {url} answers normally again"
    return (f"the WeCom sandbox at {url} answers errcode {errcode} to the next {calls} "
            "message sends")


def read_outbox(data_dir: Path) -> list[dict[str, Any]]:
    """The recorded messages, oldest first; a torn last line (a crash mid-write) is skipped."""
    try:
        lines = outbox_path(data_dir).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def format_record(record: dict[str, Any]) -> str:
    when = str(record.get("received_at", ""))[:19].replace("T", " ")
    to = ", ".join(record.get("to") or [])
    kind = f" [{record['msgtype']}]" if record.get("msgtype") else ""
    return f"{when}  {record.get('channel', '?'):<5} -> {to}{kind}  {record.get('subject', '')}"


def show_outbox(data_dir: Path, as_json: bool = False) -> None:
    """What the demo's WeCom sandbox and SMTP sink received (`wendu demo outbox`)."""
    records = read_outbox(data_dir)
    if as_json:
        for record in records:
            echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
        return
    if not records:
        echo(f"nothing delivered over WeCom or e-mail yet ({outbox_path(data_dir)})")
        return
    for record in records:
        echo(format_record(record))
