"""Cooldown: once a rule has fired for someone, it fires nothing more for them for a while.

A dedupe key settles one situation by its name ("E1 in week 47"), but a rolling window does
not respect names: the Monday after a heavy week still holds last week's late days and renders
the next week's key. `cooldown: 7d` says the rule has told people about this employee recently
enough: a match within that long of one of the rule's firings for the same employee, under
another key, fires nothing and is reported as `cooldown` (a match under the same key stays
the dedupe's business: `already_fired`).

Time is the events' time, not the arrival's, so a backtest replaying the same events decides
as live ingest did; the window reaches both ways, so an event that arrives out of order does
not fire beside a firing a few days after it. A schedule rule's firings are dated by their
scan. Live ingest reads the rule's earlier firings from the store (`stored_book`); a backtest
keeps its own book of what it would have fired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.sqlbatch import chunks
from wendu.store.models import Event, Firing
from wendu.store.profile_values import as_datetime


@dataclass(frozen=True)
class Cooled:
    """A match the rule's cooldown held back: its key, and the firing that started it."""

    rule_id: str
    dedupe_key: str
    after: str  # the dedupe key of the firing within the cooldown
    until: datetime  # when that firing's cooldown ends

    def public(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "dedupe_key": self.dedupe_key,
                "after": self.after, "until": self.until.isoformat()}


class CooldownBook:
    """The firings of rules with a cooldown, by (rule, employee): when, and under which key."""

    def __init__(self) -> None:
        self._fired: dict[tuple[str, str], list[tuple[datetime, str]]] = {}

    def add(self, rule_id: str, employee_id: str | None, at: datetime, key: str) -> None:
        if employee_id:
            self._fired.setdefault((rule_id, employee_id), []).append((as_datetime(at), key))

    def check(self, plan: Any, employee_id: str | None, key: str, at: datetime) -> Cooled | None:
        """The cooldown that holds this match back, or None (the match may fire)."""
        seconds = getattr(plan, "cooldown_seconds", None)
        fired = self._fired.get((plan.rule_id, employee_id or ""))
        if not seconds or not fired:
            return None
        if any(k == key for _, k in fired):
            return None  # the same situation by name: dedupe answers already_fired
        window = timedelta(seconds=seconds)
        at = as_datetime(at)
        near = [(t, k) for t, k in fired if abs(at - t) < window]
        if not near:
            return None
        t, k = max(near)
        return Cooled(plan.rule_id, key, k, (t + window).astimezone(UTC))

    def take(self, plan: Any, employee_id: str | None, key: str, at: datetime) -> Cooled | None:
        """`check`, and a match that may fire under a new key is booked, so the next one sees
        it (a key fires once, so its cooldown runs from its first match)."""
        cooled = self.check(plan, employee_id, key, at)
        fired = self._fired.get((plan.rule_id, employee_id or ""), ())
        if (cooled is None and getattr(plan, "cooldown_seconds", None)
                and all(k != key for _, k in fired)):
            self.add(plan.rule_id, employee_id, at, key)
        return cooled


def stored_book(
    session: Session, items: Iterable[tuple[Any, str | None, datetime]]
) -> CooldownBook:
    """The stored firings that may cool the (plan, employee, time) matches of a batch down."""
    book = CooldownBook()
    wanted = [(plan, emp, as_datetime(at)) for plan, emp, at in items
              if getattr(plan, "cooldown_seconds", None) and emp]
    if not wanted:
        return book
    longest = timedelta(seconds=max(plan.cooldown_seconds for plan, _, _ in wanted))
    start = min(at for _, _, at in wanted) - longest
    end = max(at for _, _, at in wanted) + longest
    rules = sorted({plan.rule_id for plan, _, _ in wanted})
    people = sorted({emp for _, emp, _ in wanted})
    # A firing is dated by its event; a schedule rule's (no event) by its scan.
    when = func.coalesce(Event.occurred_at, Firing.created_at)
    for chunk in chunks(people):
        q = (select(Firing.rule_id, Firing.employee_id, Firing.dedupe_key, when)
             .outerjoin(Event, Event.id == Firing.event_id)
             .where(Firing.rule_id.in_(rules), Firing.employee_id.in_(chunk),
                    when >= start, when <= end))
        for rule_id, emp, key, at in session.execute(q):
            book.add(rule_id, emp, at, key)
    return book


def hold_back(session: Session, evs: list[Any], outcomes: list[Any],
              candidates: list[tuple[int, Any, dict[str, Any]]]) -> tuple[list, list]:
    """(the candidates of an ingest batch that may fire, those held back with the reason
    `cooldown` for the decision log); each held back one is in `outcomes[i].cooldown`.

    Matches are taken in batch order, so of two events of one batch the first fires and the
    second meets its cooldown."""
    if not any(getattr(m.plan, "cooldown_seconds", None) for _, m, _ in candidates):
        return candidates, []
    book = stored_book(session, [(m.plan, evs[i].employee_id, evs[i].occurred_at)
                                 for i, m, _ in candidates])
    kept, held = [], []
    for i, match, ctx in candidates:
        ev = evs[i]
        cooled = book.take(match.plan, ev.employee_id, match.dedupe_key, ev.occurred_at)
        if cooled is None:
            kept.append((i, match, ctx))
        else:
            outcomes[i].cooldown.append(cooled)
            held.append((i, match, ctx, "cooldown"))
    return kept, held
