"""The profile states this process wrote last, so the next batch need not read them back.

Ingest folds every event into its employee's profile state and writes the state back; a busy
batch of 500 events read 500 states of several kilobytes of JSON each, only to find what this
same process had written a moment before. A state is kept here, after its transaction
committed, with the `updated_at` it was written with. A batch still locks and reads every
row's `updated_at` (a few bytes), and takes a kept state only when that stamp is the one
kept: any other writer (a score step, another API process, a restored database) gives the row
a new stamp, and the state is read from the database as before.

Stamps are this process's own and never repeat (`stamp`): two writes of a row in one
microsecond still get different ones. States are kept, never changed: the fold copies on
write (`wendu.store.profile.fold_state`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from wendu.store.models import utcnow

MAX_KEPT = 50_000  # states; past it, the least recently used go
_PENDING = "wendu.profile_cache"  # session.info key: what this transaction wrote

_kept: OrderedDict[tuple[str, str], tuple[datetime, dict[str, Any]]] = OrderedDict()
_lock = threading.Lock()
_last = datetime.min.replace(tzinfo=utcnow().tzinfo)


def stamp() -> datetime:
    """utcnow(), but later than any stamp this process gave before."""
    global _last
    with _lock:
        now = utcnow()
        _last = now if now > _last else _last + timedelta(microseconds=1)
        return _last


def database_of(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=True)


def kept(database: str, employee_id: str, updated_at: datetime | None) -> dict[str, Any] | None:
    """The state written with `updated_at`, if this process kept it."""
    if updated_at is None:
        return None
    key = (database, employee_id)
    with _lock:
        found = _kept.get(key)
        if found is None or found[0] != updated_at:
            return None
        _kept.move_to_end(key)
        return found[1]


def keep_after_commit(session: Session, database: str,
                      states: dict[str, tuple[datetime, dict[str, Any]]]) -> None:
    """Keep these states once the session's transaction commits (a rollback drops them)."""
    pending = session.info.setdefault(_PENDING, {})
    pending.update(((database, eid), value) for eid, value in states.items())


def forget_all() -> None:
    with _lock:
        _kept.clear()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    with _lock:
        _kept.update(pending)
        for key in pending:
            _kept.move_to_end(key)
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
