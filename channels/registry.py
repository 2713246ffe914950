"""Delivery channels by name: the notifier hands each rendered message to its channel here.

A channel only transports. The notifier has already stored the message as a Notification row
under its unique key before calling `send`. When an earlier attempt's outcome is unknown (a
timeout, a worker crash) the notifier sends again with the same `key`, and each external
channel hands the key to its far end in a form that end deduplicates on (WeCom's duplicate
check, the e-mail Message-ID, the webhook's Idempotency-Key). A channel raises `ChannelError`
when the message could not be delivered, saying whether trying again later may help.
"""

from __future__ import annotations

from typing import Any

# The message and error types live in `message`, which each channel imports; they are
# named here too, for the notifier and the API.
from wendu.channels.message import Channel, ChannelError, OutgoingMessage

__all__ = ["Channel", "ChannelError", "ChannelRegistry", "OutgoingMessage"]


class ChannelRegistry:
    def __init__(self, channels: list[Channel] | tuple[Channel, ...] = ()) -> None:
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    @classmethod
    def default(cls) -> ChannelRegistry:
        from wendu.channels.inapp import InAppChannel

        return cls([InAppChannel()])

    @classmethod
    def from_settings(cls, settings: Any) -> ChannelRegistry:
        """The in-app inbox plus every channel the settings configure (`WENDU_WECOM_*`,
        `WENDU_SMTP_*`, `WENDU_WEBHOOK_*`); a rule naming another one records a failure."""
        registry = cls.default()
        if settings.wecom_configured:
            from wendu.channels.wecom import WeComChannel

            registry.register(WeComChannel.from_settings(settings))
        if settings.smtp_configured:
            from wendu.channels.email import EmailChannel

            registry.register(EmailChannel.from_settings(settings))
        if settings.webhook_configured:
            from wendu.channels.webhook import WebhookChannel

            registry.register(WebhookChannel.from_settings(settings))
        return registry

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def names(self) -> list[str]:
        return sorted(self._channels)
