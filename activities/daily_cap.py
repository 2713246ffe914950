"""The daily cap: whether a non-urgent rule message is sent now or folded into a digest.

The cap counts a recipient's non-urgent rule messages per local day in a counter row of
their own (`notification_counts`). Whether a message is over the cap is decided, and its rows
claimed, in one transaction that writes that row first: deliveries to the same recipient at
the same instant take turns on it (SQLite's write lock, PostgreSQL's row lock), others do not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wendu.activities.notify_keys import Rendered, delivery_key
from wendu.activities.people import Person
from wendu.store.db import transaction
from wendu.store.models import Notification, NotificationCount
from wendu.workflows.io import Delivery, NotifyInput

# Rounds of the daily cap's decision when an overlapping attempt of the same message races it.
CLAIM_ATTEMPTS = 3


class DailyCap:
    """The notifier's cap decisions; it expects the notifier's `session_factory`, `channels`,
    `_row` and `_existing`."""

    session_factory: Any
    channels: Any
    _row: Callable[..., Notification]
    _existing: Callable[[str], tuple[int, str, str | None]]

    def _claim_within_cap(
        self,
        inp: NotifyInput,
        person: Person,
        channels: list[str],
        msg: Rendered,
        day: str,
        at: datetime,
        cap: int,
        period: str = "",
    ) -> tuple[bool, dict[str, int | None]]:
        """Whether the message is over the recipient's daily cap (folded), and its rows.

        The decision and the rows are one transaction: two deliveries to the same recipient at
        the same instant cannot both take the last place, and a worker dying in between
        neither counts a message it did not store nor stores one it did not count.
        """
        keys = {channel: delivery_key(inp, person.id, channel, period) for channel in channels}
        for attempt in range(CLAIM_ATTEMPTS):
            try:
                with transaction(self.session_factory) as session:
                    return self._decide(session, inp, person, keys, msg, day, at, cap)
            except IntegrityError:
                # An overlapping attempt of this message stored a key first; the next round
                # finds its rows and follows its decision.
                if attempt + 1 == CLAIM_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _decide(
        self,
        session: Session,
        inp: NotifyInput,
        person: Person,
        keys: dict[str, str],
        msg: Rendered,
        day: str,
        at: datetime,
        cap: int,
    ) -> tuple[bool, dict[str, int | None]]:
        # Written first: on SQLite this takes the write lock before anything is read.
        self._open_count(session, person.id, day)
        taken = set(session.scalars(
            select(Notification.key).where(Notification.key.in_(list(keys.values())))))
        # A retried attempt keeps the first one's decision, so a channel still pending from it
        # is sent, not folded after the fact.
        own = session.scalars(select(Notification.status).where(
            Notification.recipient_id == person.id,
            Notification.workflow_id == inp.workflow_id,
            Notification.step_id == inp.step_id,
        )).all()
        fresh = [channel for channel, key in keys.items() if key not in taken]
        if own:
            fold = all(status == "digest" for status in own)
        else:  # nothing fresh: every key is taken already, and nothing is sent or counted
            fold = bool(fresh) and not self._count_one(session, person.id, day, cap)
        rows: dict[str, Notification] = {
            channel: self._row(inp, keys[channel], person, channel, msg,
                               fold or self.channels.get(channel) is not None, day, at, fold)
            for channel in fresh
        }
        session.add_all(rows.values())
        session.flush()
        claims: dict[str, int | None] = dict.fromkeys(keys)
        claims.update({channel: row.id for channel, row in rows.items()})
        return fold, claims

    def _open_count(self, session: Session, recipient_id: str, day: str) -> None:
        """Creates the recipient's counter for `day` unless it exists, starting from the
        messages stored for that day before it (sent before this worker kept counters)."""
        stored = select(func.count()).select_from(
            select(Notification.workflow_id, Notification.step_id).where(
                Notification.recipient_id == recipient_id,
                Notification.local_date == day,
                Notification.status != "digest",
            ).distinct().subquery()
        ).scalar_subquery()
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(NotificationCount)
            .values(recipient_id=recipient_id, local_date=day, sent=stored)
            .on_conflict_do_nothing(index_elements=["recipient_id", "local_date"])
        )

    def _count_one(self, session: Session, recipient_id: str, day: str, cap: int) -> bool:
        """Counts a message if fewer than `cap` were sent that day; False if it is over.

        The conditional UPDATE holds the counter's row (on PostgreSQL) until the transaction
        ends: a concurrent delivery to this recipient waits and then sees the new count, while
        other recipients' rows are untouched.
        """
        counted = session.scalar(
            update(NotificationCount)
            .where(NotificationCount.recipient_id == recipient_id,
                   NotificationCount.local_date == day,
                   NotificationCount.sent < cap)
            .values(sent=NotificationCount.sent + 1)
            .returning(NotificationCount.sent)
            .execution_options(synchronize_session=False)
        )
        return counted is not None

    def _folded(self, inp: NotifyInput, person: Person, channel: str,
                claims: dict[str, int | None] | None, period: str = "") -> Delivery:
        """A message stored for the recipient's digest instead of being sent."""
        nid = (claims or {}).get(channel)
        status = "digest"
        if nid is None:  # a retried attempt decided already, or another firing (`once_per`)
            nid, _, owner = self._existing(delivery_key(inp, person.id, channel, period))
            status = "duplicate" if owner in (None, inp.workflow_id) else "repeated"
        return Delivery(recipient_id=person.id, channel=channel, notification_id=nid,
                        status=status)  # type: ignore[arg-type]
