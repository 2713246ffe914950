"""Impact per rule, on both backends: the outcome of the people a rule acted on in the 4 weeks
after against the 4 before, and with a holdout the held-out people's change beside theirs, the
difference with a 95% confidence interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from wendu.decisions import in_holdout
from wendu.impact import impact_per_rule
from wendu.ingest import ingest
from wendu.rules.compiler import compile_text
from wendu.rules.matcher import RuleIndex
from wendu.store.models import Firing, Rule

SPIKE = """\
id: {id}
version: 1
title: {{zh: 加班高峰, en: Overtime spike}}
trigger: {{event: attendance.day_closed}}
when: event.overtime_hours > 5
dedupe: "{{{{ employee.id }}}}"
{extra}steps:
  - record: {{metric: spike, value: 1}}
"""
PEOPLE = [f"E{i:02d}" for i in range(40)]
SPIKE_DAY = datetime(2026, 6, 1, 12, tzinfo=UTC)


def day(emp: str, at: datetime, hours: float) -> dict:
    return {"id": f"d-{emp}-{at:%Y%m%d}", "type": "attendance.day_closed", "employee_id": emp,
            "occurred_at": at.isoformat(),
            "data": {"day": at.date().isoformat(), "overtime_hours": hours,
                     "clock_in": (at - timedelta(hours=3)).isoformat(),
                     "clock_out": at.isoformat()}}


def history(session_factory, plans, acted_drop) -> None:
    """Four weeks at about 4 hours a day, a 6-hour day the rules fire on, then four weeks
    at `acted_drop(emp)` hours."""
    for offset in range(-27, 28):
        at = SPIKE_DAY + timedelta(days=offset)
        events = []
        for i, emp in enumerate(PEOPLE):
            base = 4 + (i % 4) * 0.25
            hours = 6.0 if offset == 0 else base if offset < 0 else acted_drop(emp, base)
            events.append(day(emp, at, hours))
        with session_factory.begin() as s:
            ingest(s, events, RuleIndex(plans, max_age=None))
    with session_factory.begin() as s:  # what the starter does once Temporal has them
        s.execute(update(Firing).where(Firing.status == "pending").values(status="started"))
        for plan in plans:
            s.add(Rule(id=plan.rule_id, current_digest=plan.digest, version=1,
                       trigger_kind="event", event_type="attendance.day_closed"))


def test_a_holdout_compares_acted_on_with_held_out_people(session_factory):
    plan = compile_text(SPIKE.format(id="spike", extra="holdout: 50%\n"))
    held = {e for e in PEOPLE if in_holdout("spike", e, 0.5)}
    assert 10 <= len(held) <= 30
    # Alerted people cut 2 hours a day; held-out people carry on as before.
    history(session_factory, [plan], lambda emp, base: base if emp in held else base - 2)
    with session_factory() as s:
        (found,) = impact_per_rule(s, SPIKE_DAY + timedelta(weeks=5))
    assert (found.rule_id, found.metric, found.kind) == (
        "spike", "attendance.day_closed.overtime_hours", "experiment")
    assert found.acted.people == len(PEOPLE) - len(held)
    assert found.held_out.people == len(held)
    assert found.acted.change == -2.0 and found.held_out.change == 0.0
    assert found.difference == -2.0
    low, high = found.ci
    assert low <= -2.0 <= high and high < 0
    assert found.as_dict()["held_out"]["people"] == len(held)


def test_without_a_holdout_it_is_an_observation(session_factory):
    plan = compile_text(SPIKE.format(id="spike-plain", extra=""))
    history(session_factory, [plan], lambda emp, base: base - 1)
    with session_factory() as s:
        (found,) = impact_per_rule(s, SPIKE_DAY + timedelta(weeks=5))
    assert (found.kind, found.held_out, found.ci) == ("observation", None, None)
    assert found.acted.people == 40
    assert found.acted.change == -1.0
    assert found.acted.before == 4.38 and found.acted.after == 3.38
