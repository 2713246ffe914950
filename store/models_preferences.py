"""Each person's notification preferences: a category muted, or a channel picked for it.

One row per (employee, category) they changed; no row means the rule's channels, unmuted.
What the categories are, and which are critical, is `wendu.preferences`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from wendu.store.models import Base, utcnow


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    employee_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The channel this person reads this category on (None: the rule's channels).
    channel: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
