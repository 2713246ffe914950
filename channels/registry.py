"""Delivery channels by name: the notifier hands each rendered message to its channel here.

A channel only transports. The notifier has already stored the message as a Notification row
under its unique key before calling `send`, so a channel never has to guard against sending
twice; it raises `ChannelError` when the message could not be delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class ChannelError(Exception):
    """The channel could not deliver the message (the error is stored on the notification)."""


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None: ...


class ChannelRegistry:
    def __init__(self, channels: list[Channel] | tuple[Channel, ...] = ()) -> None:
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    @classmethod
    def default(cls) -> ChannelRegistry:
        from wendu.channels.inapp import InAppChannel

        return cls([InAppChannel()])

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def names(self) -> list[str]:
        return sorted(self._channels)
