"""Webhook: each message as a signed JSON POST, for Feishu/DingTalk/Slack-style bridges.

The receiver checks `X-Wendu-Signature: sha256=<hex>`, an HMAC-SHA256 with the shared secret
over `<X-Wendu-Timestamp>.<raw body>`, and refuses stale timestamps (replays). The
`Idempotency-Key` header is the delivery key: a message resent after an unknown outcome
carries the same key, so the receiver can drop the repeat.

5xx, 429 and network errors are retried later; other 4xx mean the receiver refuses this
message for good (bad secret, unknown route) and the delivery is recorded as failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from wendu.channels.message import ChannelError, OutgoingMessage

SIGNATURE_HEADER = "X-Wendu-Signature"
TIMESTAMP_HEADER = "X-Wendu-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300,
    now: float | None = None,
) -> bool:
    """For receivers written in Python: the signature matches and the timestamp is fresh."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "id": message.key,
        "notification_id": message.notification_id,
        "recipient": {"id": message.recipient_id, "name": message.recipient_name,
                      "email": message.recipient_email, "locale": message.locale},
        "subject": message.subject,
        "body": message.body,
        "urgent": message.urgent,
        "task": message.task,
    }


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("WENDU_WEBHOOK_SECRET is needed to sign webhook deliveries")
        self.url, self.secret, self.clock = url, secret, clock
        self.http = http or httpx.AsyncClient(timeout=10)

    @classmethod
    def from_settings(cls, settings: Any) -> WebhookChannel:
        return cls(settings.webhook_url, settings.webhook_secret)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(self, message: OutgoingMessage) -> None:
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            "Idempotency-Key": message.key,
        }
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise ChannelError(f"webhook {self.url} unreachable: {type(err).__name__}: {err}",
                               retryable=True) from err
        if response.is_success:
            return
        code = response.status_code
        detail = response.text[:200]
        raise ChannelError(f"webhook {self.url} answered HTTP {code}: {detail}",
                           retryable=code >= 500 or code == 429)
