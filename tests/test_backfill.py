"""Backfilled history is not news: an event older than a rule's freshness window when it
arrives folds into the profile and fires nothing, live and in a backtest alike.

The reproduction: 张伟 (E1004) has weeks of rest days worked in his imported history; the
satisfaction-drop scenario then posted a month of his past attendance at once, and he got one
overtime-care e-mail per past ISO week, four within a second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from wendu.backtest import backtest, in_time_order, stored_event
from wendu.demo.company import attendance_day, load_company
from wendu.demo.scenarios import heavy_days, overtime, satisfaction_drop
from wendu.event_models import parse_event_list
from wendu.ingest import _normalize, ingest
from wendu.rules.freshness import DEFAULT_MAX_AGE_SECONDS
from wendu.rules.matcher import RuleIndex
from wendu.rules.plan import EventTrigger
from wendu.rules.ruleset import load_ruleset
from wendu.store.db import transaction
from wendu.store.models import Event, Firing

LIBRARY = Path(__file__).resolve().parents[1] / "rules" / "library"
SH = ZoneInfo("Asia/Shanghai")
CARE = "overtime-care-week"


def event_plans() -> list:
    loaded = load_ruleset([LIBRARY])
    assert loaded.errors == []
    return [p for p in loaded.plans if isinstance(p.trigger, EventTrigger)]


def rest_days_worked(employee_id: str, today: date, weeks: int = 5) -> list[dict]:
    """What `wendu demo import` stored for him: every weekend of the last weeks worked, 6 h
    of overtime a day (history: it fires nothing)."""
    days = [today - timedelta(days=back) for back in range(weeks * 7, 0, -1)]
    return [{**attendance_day(employee_id, d, time(22, 0), 6.0),
             "id": f"history-{employee_id}-{d.isoformat()}"} for d in days if d.weekday() >= 5]


def care_firings(factory) -> list[tuple[str, datetime]]:
    with factory() as session:
        q = (select(Firing.dedupe_key, Event.occurred_at)
             .join(Event, Event.id == Firing.event_id).where(Firing.rule_id == CARE))
        return list(session.execute(q))


def test_a_month_of_past_attendance_posted_today_sends_no_care_mail_per_past_week(factory):
    today = datetime.now(SH).date()
    load_company(factory)
    with transaction(factory) as session:
        ingest(session, rest_days_worked("E1004", today), RuleIndex([]))
    posted = satisfaction_drop("E1004", today)
    plans = event_plans()

    # Without a freshness window this is the report: one care message per past ISO week.
    unguarded = backtest(in_time_order(_normalize(e) for e in parse_event_list(
        rest_days_worked("E1004", today) + posted)), [("live", p) for p in plans])
    weeks = next(t for t in unguarded.tallies if t.rule_id == CARE).by_week
    assert len(weeks) >= 4

    now = datetime.now(UTC)
    with transaction(factory) as session:
        outcomes = ingest(session, posted, RuleIndex(plans, DEFAULT_MAX_AGE_SECONDS), now=now)

    fired = care_firings(factory)
    assert len(fired) <= 1, fired  # at most this week's (or last week's, early in a week)
    for _key, occurred in fired:
        assert now - occurred.replace(tzinfo=occurred.tzinfo or UTC) <= timedelta(days=3)
    results = {o.id: o.public() for o in outcomes}
    old_days = [e["id"] for e in posted if e["type"] == "attendance.day_closed"
                and now - datetime.fromisoformat(e["occurred_at"]) > timedelta(days=3)]
    assert len(old_days) >= 15
    for eid in old_days:
        assert results[eid]["status"] == "stale", results[eid]
        assert results[eid]["fired"] == [] and CARE in results[eid]["stale"]
    # Today's survey is news: the satisfaction drop still reaches him.
    survey = results[f"demo-survey-E1004-{today.isoformat()}"]
    assert survey["status"] == "accepted"
    assert [f["rule_id"] for f in survey["fired"]] == ["satisfaction-drop-course"]

    # The backtest over the stored events judges each by when it arrived, as live did.
    with factory() as session:
        stored = [stored_event(r) for r in
                  session.scalars(select(Event).order_by(Event.occurred_at, Event.id))]
    report = backtest(stored, [("live", p) for p in plans], max_age=DEFAULT_MAX_AGE_SECONDS)
    replayed = {f.workflow_id for t in report.tallies for f in t.fired}
    with factory() as session:
        assert replayed == set(session.scalars(select(Firing.workflow_id)))
    assert next(t for t in report.tallies if t.rule_id == CARE).stale >= len(old_days)


def test_a_rule_may_keep_a_longer_window_of_its_own(factory):
    today = datetime.now(SH).date()
    load_company(factory)
    plans = [p.model_copy(update={"max_age_seconds": 60 * 86400}) if p.rule_id == CARE else p
             for p in event_plans()]
    with transaction(factory) as session:
        ingest(session, rest_days_worked("E1004", today) + satisfaction_drop("E1004", today),
               RuleIndex(plans, DEFAULT_MAX_AGE_SECONDS))
    assert len(care_firings(factory)) >= 4  # asked for: the rule replays history on purpose


@pytest.mark.parametrize("weekday", range(7))
@pytest.mark.parametrize("hour", [0, 9, 23])
def test_the_overtime_scenario_fires_once_for_the_week_on_any_day(weekday, hour):
    """Whatever the day and hour it runs, the scenario's late days fire the rule once, on a
    fresh event, for one ISO week."""
    monday = date(2026, 11, 30)
    today = monday + timedelta(days=weekday)
    now = datetime.combine(today, time(hour, 59), SH)
    plans = [p for p in event_plans() if p.rule_id == CARE]
    events = in_time_order(
        _normalize(e, now) for e in parse_event_list(overtime("E1004", today)))
    report = backtest(events, [("live", p) for p in plans], max_age=DEFAULT_MAX_AGE_SECONDS)
    tally = report.tallies[0]
    assert len(tally.fired) == 1, (today, tally.as_dict())
    end, _ = heavy_days(today)
    assert tally.fired[0].occurred_at.date() <= end
