"""What a channel is handed and what it raises: the message, `ChannelError`, the protocol.

Each channel (inapp, wecom, email, webhook) imports these, and the registry imports the
channels to build them by name; keeping the types here means no channel imports the registry
back. See `registry` for how the notifier uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    key: str
    recipient_id: str
    recipient_name: str
    recipient_email: str | None
    locale: str
    subject: str
    body: str
    urgent: bool = False
    # The channel's own rendering (`<locale>.<channel>.j2`: WeCom markdown, e-mail HTML), or "".
    variant: str = ""
    wecom_userid: str | None = None
    # The task a task message is about ({id, title, due_at, url, ...}): WeCom sends a card
    # whose button acknowledges it.
    task: dict[str, Any] | None = None


class ChannelError(Exception):
    """The channel could not deliver the message (the error is stored on the notification).

    `retryable`: the far end may accept it later (busy, rate-limited, unreachable); the
    delivery is retried with backoff. Otherwise (unknown user, no permission, bad address)
    it is recorded as failed at once.
    """

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None: ...
