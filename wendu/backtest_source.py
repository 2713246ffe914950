"""The stored history a backtest replays: events up to a time, in order, and the records and
live rule versions the store knows. Shared by `wendu rules backtest` and the console's page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from wendu.store.models import Employee, Event, Rule


class StoredHistory:
    def __init__(self, factory: sessionmaker[Session], until: datetime) -> None:
        self.factory, self.until = factory, until

    def count(self) -> int:
        with self.factory() as session:
            return int(session.scalar(select(func.count()).select_from(Event)
                                      .where(Event.occurred_at <= self.until)) or 0)

    def events(self) -> Iterator[Any]:
        from wendu.backtest import stored_event

        with self.factory() as session:
            q = (select(Event).where(Event.occurred_at <= self.until)
                 .order_by(Event.occurred_at, Event.id).execution_options(yield_per=5000))
            for row in session.scalars(q):
                yield stored_event(row)

    def employees(self) -> dict[str, dict[str, Any]]:
        from wendu.ingest import employee_dict

        with self.factory() as session:
            return {e.id: employee_dict(e, e.id) for e in session.scalars(select(Employee))}

    def live_plan(self, rule_id: str) -> Any:
        from wendu.rulestore import load_plan

        with self.factory() as session:
            rule = session.get(Rule, rule_id)
            return load_plan(session, rule_id, rule.current_digest) if rule else None
