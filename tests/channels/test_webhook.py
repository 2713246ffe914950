"""Webhook deliveries to a real local HTTP receiver that checks the HMAC signature itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wendu.channels.registry import ChannelError, OutgoingMessage
from wendu.channels.webhook import WebhookChannel, verify

SECRET = "whsec-test-0123"


class Receiver:
    """Answers each POST with the next queued status (200 when none) after checking the HMAC."""

    def __init__(self) -> None:
        self.accepted: list[tuple[dict, dict]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server hook)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Wendu-Timestamp"]
                expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body,
                                    hashlib.sha256).hexdigest()
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if self.headers["X-Wendu-Signature"] != f"sha256={expected}":
                    status = 401
                elif status == 200:
                    receiver.accepted.append((dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"signature mismatch" if status == 401 else b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/wendu"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def message(**changes) -> OutgoingMessage:
    base = dict(notification_id=3, key="rule/overtime-care/E1004/steps[0]/E1002/webhook",
                recipient_id="E1002", recipient_name="李娜", recipient_email="lina@example.com",
                locale="zh-CN", subject="张伟 近 7 天加班 24 小时", body="建议关注其工作负荷。")
    return OutgoingMessage(**{**base, **changes})


async def test_signed_post_is_accepted_with_its_idempotency_key(receiver):
    channel = WebhookChannel(receiver.url, SECRET)
    await channel.send(message())
    await channel.aclose()
    [(headers, body)] = receiver.accepted
    assert headers["Idempotency-Key"] == "rule/overtime-care/E1004/steps[0]/E1002/webhook"
    assert body["subject"] == "张伟 近 7 天加班 24 小时"
    assert body["recipient"] == {"id": "E1002", "name": "李娜", "email": "lina@example.com",
                                 "locale": "zh-CN"}


async def test_wrong_secret_is_refused_for_good(receiver):
    channel = WebhookChannel(receiver.url, "not-the-secret")
    with pytest.raises(ChannelError) as raised:
        await channel.send(message())
    await channel.aclose()
    assert not raised.value.retryable and "401" in raised.value.reason
    assert receiver.accepted == []


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (429, True), (404, False)])
async def test_status_codes_decide_retry(receiver, status, retryable):
    receiver.statuses.append(status)
    channel = WebhookChannel(receiver.url, SECRET)
    with pytest.raises(ChannelError) as raised:
        await channel.send(message())
    assert raised.value.retryable is retryable
    await channel.send(message())  # the retry goes through
    await channel.aclose()
    assert len(receiver.accepted) == 1


def test_verify_helper_for_receivers():
    body = b'{"id":"k"}'
    digest = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    good = "sha256=" + digest
    assert verify(SECRET, "1700000000", body, good, now=1700000010)
    assert not verify(SECRET, "1700000000", body, good, now=1700009999)  # a replay
    assert not verify(SECRET, "1700000000", body + b" ", good, now=1700000010)
