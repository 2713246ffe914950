"""Notification preferences: what a person hears about, and where.

Messages fall into categories (care, guides, learning, ...). Each person may mute a category
of non-critical messages or pick the channel they read it on, as Novu and Knock let
subscribers do; a channel picked replaces the rule's channels for that person. Task messages
(assignments, reminders, escalations) and compliance messages are critical: they cannot be
muted, since someone must act on them, though their channel may be picked.

A message's category is its notify step's `category:`, else its template's, and `tasks` for
every message of a task (rules.categories). The notifier asks `route` per recipient; a muted
message is neither sent nor counted toward the daily cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.rules.categories import (  # noqa: F401 (the catalog, where callers look for it)
    CATEGORIES,
    COMPLIANCE,
    OTHER,
    TASKS,
    Category,
    category_of,
)
from wendu.store.models_preferences import NotificationPreference


@dataclass(frozen=True)
class Choice:
    muted: bool = False
    channel: str | None = None


def choices(session: Session, employee_ids: list[str], category: str) -> dict[str, Choice]:
    """What each of these people chose for `category` (only those who changed something)."""
    if not employee_ids:
        return {}
    rows = session.execute(
        select(NotificationPreference.employee_id, NotificationPreference.muted,
               NotificationPreference.channel)
        .where(NotificationPreference.category == category,
               NotificationPreference.employee_id.in_(employee_ids)))
    return {eid: Choice(bool(muted), channel) for eid, muted, channel in rows}


def route(channels: list[str], choice: Choice | None, category: str,
          usable: set[str]) -> list[str]:
    """The channels a message of `category` goes to for one person: none when they muted a
    non-critical category, their picked channel (if this worker has it) instead of the rule's,
    else the rule's."""
    if choice is None:
        return channels
    if choice.muted and not CATEGORIES.get(category, CATEGORIES[OTHER]).critical:
        return []
    if choice.channel and choice.channel in usable:
        return [choice.channel]
    return channels
