"""Ingest keeps the profile states it wrote and reads back only those someone else changed:
what the profile says after each batch is what the stored events and other writers say."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from wendu.activities.score_inputs import store_score
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.store.db import make_engine, make_session_factory
from wendu.store.models import Profile
from wendu.store.profile_rows import load_states

NO_RULES = RuleIndex([])
MONDAY = date(2026, 11, 2)


def day(employee: str, n: int, overtime: float) -> dict:
    d = MONDAY + timedelta(days=n)
    return {"id": f"{employee}-{d}", "type": "attendance.day_closed", "employee_id": employee,
            "occurred_at": f"{d}T13:00:00+00:00",
            "data": {"day": d.isoformat(), "clock_in": f"{d}T01:00:00+00:00",
                     "clock_out": f"{d}T12:00:00+00:00", "overtime_hours": overtime}}


def facts(factory, employee: str) -> dict:
    with factory() as s:
        return s.get(Profile, employee).facts


def post(factory, *events: dict) -> None:
    with factory.begin() as s:
        ingest(s, list(events), NO_RULES)


def test_batch_after_batch_the_profile_counts_every_day(factory) -> None:
    for n in range(5):
        post(factory, day("E1", n, 3.0))
        assert facts(factory, "E1")["overtime_hours_7d"] == 3.0 * (n + 1)


def test_a_score_written_between_batches_is_kept_by_the_next_batch(factory) -> None:
    post(factory, day("E1", 0, 3.0))
    store_score(factory, "E1", "burnout", {"value": 0.8, "label": "high", "model_version": "t"})
    post(factory, day("E1", 1, 3.0))
    after = facts(factory, "E1")
    assert after["scores"]["burnout"]["label"] == "high"
    assert after["overtime_hours_7d"] == 6.0


def test_a_batch_rolled_back_leaves_nothing_in_the_next(factory) -> None:
    post(factory, day("E1", 0, 3.0))
    with pytest.raises(RuntimeError), factory.begin() as s:
        ingest(s, [day("E1", 1, 9.0)], NO_RULES)
        raise RuntimeError("the producer's connection dropped before the commit")
    post(factory, day("E1", 2, 3.0))
    assert facts(factory, "E1")["overtime_hours_7d"] == 6.0


def test_another_process_writing_the_profile_is_read_back(factory, db_url) -> None:
    post(factory, day("E1", 0, 3.0))
    other = make_engine(db_url)  # another API process, on the same database
    try:
        other_factory = make_session_factory(other)
        post(other_factory, day("E1", 1, 5.0))
        # A write that only changes the row (as an operator's repair script would).
        with other_factory.begin() as s:
            state = load_states(s, ["E1"])["E1"]
            s.execute(update(Profile).where(Profile.employee_id == "E1")
                      .values(state={**state, "note": "repaired"}))
    finally:
        other.dispose()
    post(factory, day("E1", 2, 1.0))
    assert facts(factory, "E1")["overtime_hours_7d"] == 9.0
    with factory() as s:
        assert s.get(Profile, "E1").state.get("note") == "repaired"
