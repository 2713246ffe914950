"""A heavy week is reported once: the overtime rule's cooldown at ingest, on both backends.

The reproduction: 张伟's heavy week 47 told his manager on Friday; the Monday after, a normal
day, still held four late days in its 7-day window and rendered week 48's key, and the manager
was told again about the same week.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from inspect import signature
from pathlib import Path

from sqlalchemy import select

from wendu.cooldown import CooldownBook
from wendu.demo.company import attendance_day
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import load_ruleset
from wendu.store.db import transaction
from wendu.store.models import Decision, Firing

LIBRARY = Path(__file__).resolve().parents[1] / "rules" / "library"
MONDAY = date(2026, 11, 16)  # ISO week 47


def care_index() -> RuleIndex:
    loaded = load_ruleset([LIBRARY / "overtime_care.yaml"])
    assert loaded.ok, loaded.problems
    return RuleIndex(loaded.plans)


def late_days(first: date, days: int, out: time = time(22, 30)) -> list[dict]:
    return [attendance_day("E1", first + timedelta(days=i), out, 4.5) for i in range(days)]


def post(factory, events: list[dict]) -> list[dict]:
    # Arriving as they happen: a day's close is news, not backfilled history.
    arrived = datetime.fromisoformat(events[-1]["occurred_at"]).astimezone(UTC)
    # An ingest with freshness windows takes the arrival time; one without needs none.
    when = {"now": arrived + timedelta(minutes=1)} if "now" in signature(ingest).parameters else {}
    with transaction(factory) as session:
        out = ingest(session, events, care_index(), **when)
    return [o.public() for o in out]


def test_the_monday_after_a_heavy_week_sends_nothing(factory):
    week = post(factory, late_days(MONDAY, 5))
    assert [f["dedupe_key"] for o in week for f in o["fired"]] == ["E1/2026-W47"]
    saturday, = post(factory, late_days(MONDAY + timedelta(days=5), 1))
    assert saturday["already_fired"][0]["dedupe_key"] == "E1/2026-W47"
    assert saturday["cooldown"] == []  # the same week by name: that is the dedupe's answer

    monday, = post(factory, [attendance_day("E1", MONDAY + timedelta(days=7), time(18), 0)])
    assert monday["fired"] == [] and monday["already_fired"] == []
    assert monday["cooldown"] == [{
        "rule_id": "overtime-care-week", "dedupe_key": "E1/2026-W48", "after": "E1/2026-W47",
        "until": "2026-11-27T14:30:00+00:00",  # a week after Friday 22:30, when it fired
    }]
    with factory() as session:
        assert session.scalars(select(Firing.dedupe_key)).all() == ["E1/2026-W47"]
        # HR's "why did the manager hear nothing on Monday?": the decision log says.
        logged = session.execute(select(Decision.dedupe_key, Decision.result)
                                 .where(Decision.dedupe_key == "E1/2026-W48")).all()
        assert logged == [("E1/2026-W48", "cooldown")]


def test_a_second_heavy_week_is_told_once_the_week_has_passed(factory):
    outcomes = post(factory, late_days(MONDAY, 13))  # one batch: every day late
    fired = [(o["id"][-10:], f["dedupe_key"]) for o in outcomes for f in o["fired"]]
    assert fired == [("2026-11-20", "E1/2026-W47"), ("2026-11-27", "E1/2026-W48")]
    cooled = [o["id"][-10:] for o in outcomes if o["cooldown"]]
    assert cooled == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"]


def test_the_window_reaches_both_ways_for_events_out_of_order() -> None:
    class Rule:
        rule_id, cooldown_seconds = "r", 7 * 86400

    book = CooldownBook()
    friday = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    book.add("r", "E1", friday, "E1/2026-W47")
    assert book.take(Rule, "E1", "E1/2026-W46", friday - timedelta(days=3)) is not None
    assert book.take(Rule, "E1", "E1/2026-W47", friday + timedelta(days=1)) is None
    assert book.take(Rule, "E2", "E2/2026-W48", friday + timedelta(days=3)) is None
    assert book.take(Rule, "E1", "E1/2026-W48", friday + timedelta(days=7)) is None
