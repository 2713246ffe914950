"""Impact per rule, on both backends: the outcome of the people a rule acted on in the 4 weeks
after against the 4 before, and with a holdout the held-out people's change beside theirs, the
difference with a 95% confidence interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from wendu.decisions import in_holdout
from wendu.impact import impact_per_rule
from wendu.ingest import ingest
from wendu.rules.compiler import compile_text
from wendu.rules.matcher import RuleIndex
from wendu.rulestore import sync_rules
from wendu.store.models import Firing

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
        sync_rules(s, plans, {p.rule_id: p.source for p in plans},
                   {p.rule_id: f"{p.rule_id}.yaml" for p in plans})


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


def test_a_rule_names_its_own_outcome(session_factory):
    extra = "impact: {metric: survey.response.satisfaction, better: higher}\n"
    plan = compile_text(SPIKE.format(id="spike-survey", extra=extra))
    history(session_factory, [plan], lambda emp, base: base)
    surveys = [{"id": f"s-{emp}-{week}", "type": "survey.response", "employee_id": emp,
                "occurred_at": (SPIKE_DAY + timedelta(weeks=week, hours=1)).isoformat(),
                "data": {"survey_id": f"pulse-{week}", "satisfaction": 3 if week < 0 else 4}}
               for emp in PEOPLE for week in (-3, -1, 1, 3)]
    with session_factory.begin() as s:
        ingest(s, surveys, RuleIndex([]))
    with session_factory() as s:
        (found,) = impact_per_rule(s, SPIKE_DAY + timedelta(weeks=5))
    assert (found.metric, found.better) == ("survey.response.satisfaction", "higher")
    assert (found.acted.people, found.acted.before, found.acted.after) == (40, 3.0, 4.0)


@pytest.mark.parametrize("metric, message", [
    ("payroll.paid.amount", "'payroll.paid' is not an event type"),
    ("attendance.day_closed.day", "attendance.day_closed has no numeric field 'day'; its "
                                  "numeric fields: overtime_hours"),
])
def test_an_outcome_that_is_not_a_numeric_event_field_is_an_error(metric, message):
    from wendu.rules.compiler import RuleErrors

    extra = f"impact: {{metric: {metric}, better: lower}}\n"
    with pytest.raises(RuleErrors) as caught:
        compile_text(SPIKE.format(id="spike", extra=extra), "rules/spike.yaml")
    assert f"rules/spike.yaml:7:18: error: {message}" in str(caught.value)
