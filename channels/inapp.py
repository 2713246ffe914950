"""The in-app inbox: the stored Notification row is the message, so sending is storing."""

from __future__ import annotations

from wendu.channels.message import OutgoingMessage


class InAppChannel:
    name = "inapp"

    async def send(self, message: OutgoingMessage) -> None:
        # The notifier committed the row before calling us; the inbox API reads it from there.
        return None
