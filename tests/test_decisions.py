"""The decision log at ingest, on both backends: a row per match with its result (fired,
deduped, held_out), the rule version and inputs, free text left out; and the holdout, a stable
share of people whose firings are recorded and never started."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import event, select

from wendu.decisions import MASK, in_holdout
from wendu.ingest import firing_ids, ingest
from wendu.rules.compiler import RuleErrors, compile_text
from wendu.rules.matcher import RuleIndex
from wendu.store.models import Decision, Firing, utcnow

HEAVY = """\
id: heavy-day
version: 3
title: {zh: 长班, en: Heavy day}
trigger: {event: attendance.day_closed}
when: event.overtime_hours > 2 and profile.overtime_hours_7d >= 0
dedupe: "{{ employee.id }}/{{ event.day }}"
steps:
  - record: {metric: heavy, value: 1}
"""
UPSET = """\
id: upset-chat
version: 1
title: {zh: 不满, en: Upset chat}
trigger: {event: chat.message}
when: "score.sentiment.label == 'negative' and event.text != ''"
dedupe: "{{ employee.id }}/{{ event.id }}"
steps:
  - record: {metric: upset, value: 1}
"""
SECRET = "my lead shouts at me every day"


class StubScorers:
    """A sentiment scorer that quotes the text it read, as the real one's phrases do."""

    def batch(self, name, contexts):
        return [self.explain(name, c) for c in contexts]

    explain_many = batch

    def explain(self, name, context):
        text = context["event"]["text"]
        # A model's own number type, as predict_proba gives it.
        return {"label": "negative", "value": np.float64(0.75), "model_version": "stub-1",
                "phrases": [text[:14]], "factors": [{"name": text}]}


def day(emp: str, when: datetime, hours: float = 3, n: int = 0) -> dict:
    return {"id": f"d-{emp}-{when:%m%d}-{n}", "type": "attendance.day_closed",
            "employee_id": emp, "occurred_at": when.isoformat(),
            "data": {"day": when.date().isoformat(), "overtime_hours": hours,
                     "clock_in": (when - timedelta(hours=11)).isoformat(),
                     "clock_out": when.isoformat()}}


def decisions(factory, **where) -> list[Decision]:
    with factory() as s:
        q = select(Decision).filter_by(**where).order_by(Decision.id)
        return list(s.scalars(q))


# Recent days (any freshness window takes them): two calendar days, a day apart.
DAY = (utcnow() - timedelta(hours=30)).replace(microsecond=0)
NEXT = DAY + timedelta(days=1)


def test_each_match_is_logged_with_its_result_version_and_inputs(session_factory):
    index = RuleIndex([compile_text(HEAVY)])
    first = [day("E1", DAY), day("E1", DAY, n=1)]
    with session_factory.begin() as s:
        out = ingest(s, first, index)
    later = [day("E1", DAY, n=2), day("E1", DAY, hours=1, n=3)]
    with session_factory.begin() as s:  # a later batch, the same key: deduped by the row
        ingest(s, later, index)
    rows = decisions(session_factory)
    assert [(r.event_id, r.result) for r in rows] == [
        (first[0]["id"], "fired"), (first[1]["id"], "deduped"),
        (later[0]["id"], "deduped")]  # 1 hour: no match, nothing to log
    plan = index.rules_for("attendance.day_closed")[0]
    fired = rows[0]
    assert (fired.rule_id, fired.rule_version, fired.rule_digest) == ("heavy-day", 3, plan.digest)
    assert fired.inputs["event.overtime_hours"] == 3
    assert set(fired.inputs) == {"event.overtime_hours", "profile.overtime_hours_7d"}
    assert fired.workflow_id == out[0].fired[0].workflow_id == rows[1].workflow_id
    assert fired.occurred_at == DAY and fired.scores == {}


def test_free_text_is_left_out_and_scores_keep_label_and_value(session_factory):
    index = RuleIndex([compile_text(UPSET)])
    chat = {"id": "c1", "type": "chat.message", "employee_id": "E2",
            "occurred_at": DAY.isoformat(), "data": {"text": SECRET, "channel": "wecom"}}
    with session_factory.begin() as s:
        ingest(s, [chat], index, scorers=StubScorers())
    (row,) = decisions(session_factory)
    assert row.result == "fired"
    assert row.inputs == {"event.text": MASK}
    assert row.scores == {"sentiment": {"label": "negative", "value": 0.75,
                                        "model_version": "stub-1"}}
    assert "shouts" not in json.dumps([row.inputs, row.scores])


def test_holdout_is_a_stable_share_recorded_and_never_started(session_factory):
    plan = compile_text(HEAVY.replace("steps:", "holdout: 30%\nsteps:"))
    assert plan.holdout == 0.3
    index = RuleIndex([plan])
    people = [f"E{i:03d}" for i in range(200)]
    held = {p for p in people if in_holdout("heavy-day", p, 0.3)}
    assert 40 <= len(held) <= 80  # about 30% of 200
    # Another rule draws other people: no one is held out of everything.
    assert held != {p for p in people if in_holdout("other-rule", p, 0.3)}
    to_start: set[int] = set()
    for when in (DAY, NEXT):  # two keys each: the same people held out both times
        with session_factory.begin() as s:
            out = ingest(s, [day(p, when) for p in people], index)
        assert {o.id.split("-")[1] for o in out if o.fired} == set(people) - held
        assert all(not o.already_fired for o in out)  # nothing about the holdout is shown
        to_start |= set(firing_ids(out))
        with session_factory() as s:  # the starter is handed only the acted-on ones
            assert to_start == set(s.scalars(select(Firing.id).where(
                Firing.status == "pending")))
    with session_factory() as s:
        held_rows = s.scalars(select(Firing).where(Firing.status == "held_out")).all()
    assert len(held_rows) == 2 * len(held) and {f.employee_id for f in held_rows} == held
    assert {r.employee_id for r in decisions(session_factory, result="held_out")} == held


def test_the_log_is_one_insert_per_batch(session_factory):
    index = RuleIndex([compile_text(HEAVY)])
    engine = session_factory.kw["bind"]
    inserts: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO DECISIONS"):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with session_factory.begin() as s:
            ingest(s, [day(f"E{i}", DAY, n=n) for i in range(50) for n in range(3)], index)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(decisions(session_factory)) == 150
    assert len(inserts) == 1


@pytest.mark.parametrize("value, message", [
    ("80%", "holdout 80% is outside 0%..50%"),
    ("lots", "holdout 'lots' is not a share such as 10% or 0.1"),
])
def test_a_holdout_out_of_range_is_an_error_at_its_line(value, message):
    with pytest.raises(RuleErrors) as caught:
        compile_text(HEAVY.replace("steps:", f"holdout: {value}\nsteps:"), "rules/heavy.yaml")
    assert f"rules/heavy.yaml:7:10: error: {message}" in str(caught.value)


def test_a_backtest_holds_out_the_people_live_ingest_holds_out(session_factory):
    from wendu.backtest import backtest, in_time_order, stored_event
    from wendu.store.models import Event

    plan = compile_text(HEAVY.replace("steps:", "holdout: 30%\nsteps:"))
    people = [f"E{i:03d}" for i in range(60)]
    with session_factory.begin() as s:
        ingest(s, [day(p, DAY) for p in people], RuleIndex([plan]))
    live = Counter(r.result for r in decisions(session_factory))
    with session_factory() as s:
        events = [stored_event(e) for e in s.scalars(select(Event))]
    (tally,) = backtest(in_time_order(events), [("live", plan)]).tallies
    assert (len(tally.fired), tally.held_out) == (live["fired"], live["held_out"])
    assert tally.held_out == sum(in_holdout("heavy-day", p, 0.3) for p in people) > 0


SCAN = """\
id: weekly-scan
version: 2
title: {zh: 每周扫描, en: Weekly scan}
trigger: {schedule: "0 9 * * MON", timezone: Asia/Shanghai}
when: profile.overtime_hours_28d > 60
dedupe: "{{ employee.id }}/{{ schedule.fire_time | iso_week }}"
holdout: 40%
steps:
  - record: {metric: scanned, value: 1}
"""


def test_a_schedule_scan_logs_its_decisions_and_holds_out_its_share(session_factory):
    from wendu.decisions import fire_for_schedule
    from wendu.ingest import employee_dict

    plan = compile_text(SCAN)
    people = [f"E{i:02d}" for i in range(30)]
    subjects = [(employee_dict(None, p), {"overtime_hours_28d": 70.0 if i % 3 else 10.0})
                for i, p in enumerate(people)]
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    scans = []
    for _ in range(2):  # the same week twice: the second scan is all repeats
        with session_factory.begin() as s:
            scans.append(fire_for_schedule(s, plan, subjects, monday))
    matched = {p for i, p in enumerate(people) if i % 3}
    held = {p for p in matched if in_holdout("weekly-scan", p, 0.4)}
    to_start = {f.workflow_id.split("/")[2] for f in scans[0][0]}
    assert to_start == matched - held and held  # the held-out ones are never started
    rows = decisions(session_factory)
    first, second = rows[:len(matched)], rows[len(matched):]
    assert {r.employee_id for r in first if r.result == "fired"} == matched - held
    assert {r.employee_id for r in first if r.result == "held_out"} == held
    assert {r.result for r in second} == {"deduped"} and len(second) == len(matched)
    assert first[0].inputs == {"profile.overtime_hours_28d": 70.0}
    assert first[0].occurred_at == monday and first[0].event_id is None
    assert first[0].rule_version == 2


def test_every_free_text_field_of_the_catalog_is_left_out_of_the_log():
    from wendu.decisions import SENSITIVE_INPUTS
    from wendu.rules.catalog import EVENT_TYPES

    # The catalog marks the events people write themselves as sensitive; their text fields
    # must be masked, or a new one would reach the log verbatim.
    free_text = {f"event.{name}" for e in EVENT_TYPES.values() if "(sensitive)" in e.doc
                 for name, spec in e.fields.items() if spec.type is str and name != "channel"}
    assert free_text and free_text <= SENSITIVE_INPUTS


def test_old_decisions_are_pruned_from_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from wendu.cli.main import app
    from wendu.store.db import make_engine, make_session_factory, upgrade

    monkeypatch.setenv("WENDU_HOME", str(tmp_path))
    engine = make_engine(f"sqlite:///{tmp_path / 'wendu.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    index = RuleIndex([compile_text(HEAVY)], max_age=None)
    with factory.begin() as s:
        ingest(s, [day("E1", utcnow() - timedelta(days=400)), day("E2", DAY)], index)
    runner = CliRunner()
    bad = runner.invoke(app, ["db", "prune-decisions", "--older-than", "a while"])
    assert bad.exit_code == 2 and "--older-than" in bad.output
    done = runner.invoke(app, ["db", "prune-decisions", "--older-than", "365d"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("deleted 1 decision decided before ")
    assert [r.employee_id for r in decisions(factory)] == ["E2"]
    engine.dispose()
