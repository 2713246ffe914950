"""Deciding at ingest: one batch scored at once, only confident needs fire, the score kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from wendu.decide import FastScorers, decide
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import load_ruleset
from wendu.store.db import make_session_factory
from wendu.store.models import Firing

LIBRARY = Path(__file__).resolve().parents[1] / "rules" / "library"


class CountingScorers(FastScorers):
    """The real scorers, counting the batches they are asked for."""

    def __init__(self) -> None:
        super().__init__(FastScorers.default().registry)
        self.batches: list[tuple[str, int]] = []

    def batch(self, name, contexts):
        self.batches.append((name, len(contexts)))
        return super().batch(name, contexts)


@pytest.fixture(scope="module")
def index() -> RuleIndex:
    loaded = load_ruleset([LIBRARY])
    assert loaded.errors == []
    return RuleIndex(loaded.plans)


def chat(n: int, text: str, employee: str = "E1") -> dict:
    return {"id": f"c{n}", "type": "chat.message", "employee_id": employee,
            "occurred_at": "2026-11-24T10:00:00+08:00", "data": {"text": text, "channel": "wecom"}}


SMALL_TALK = ["今天下午的站会改到三点了", "中午一起吃饭吗", "ok 收到", "thanks, see you tomorrow",
              "会议室换到 5 楼了", "周五团建去哪里"]


def test_a_batch_is_scored_once_and_only_needs_fire(index, sqlite_engine):
    scorers = CountingScorers()
    events = [chat(i, t) for i, t in enumerate(SMALL_TALK)]
    events += [chat(100, "杭州的公积金怎么提取？"), chat(101, "我想辞职了，离职流程是怎样的")]
    factory = make_session_factory(sqlite_engine)
    with factory.begin() as session:
        outcomes = ingest(session, events, index, scorers)
    # One intent batch for the whole request, whatever the number of rules reading it.
    assert scorers.batches == [("intent", len(events))]
    fired = {o.id: sorted(f.rule_id for f in o.fired) for o in outcomes}
    assert all(fired[f"c{i}"] == [] for i in range(len(SMALL_TALK)))
    assert fired["c100"] == ["needs-guide-chat"]
    assert fired["c101"] == ["resignation-signal"]
    with factory() as session:
        rows = {f.event_id: f for f in session.query(Firing)}
    assert sorted(rows) == ["c100", "c101"]
    # The workflow starts with the score that decided it: label, model version and phrases.
    intent = rows["c100"].context["context"]["score"]["intent"]
    assert intent["label"] == "housing_fund_withdrawal" and intent["value"] >= 0.5
    assert intent["model_version"]
    assert intent["factors"] and all(f["name"] for f in intent["factors"])
    assert rows["c100"].context["firing"]["values"]["score.intent.label"] == (
        "housing_fund_withdrawal")


def test_events_whose_rules_read_no_score_are_not_scored(index):
    scorers = CountingScorers()
    ctx = {"event": {"id": "a1", "day": "2026-11-24", "overtime_hours": 1.0},
           "employee": {"id": "E1"}, "profile": {"overtime_hours_7d": 1.0}, "rule": {},
           "vars": {}}
    decide([("attendance.day_closed", ctx)], index, scorers)
    assert scorers.batches == []
    assert "score" not in ctx


def test_a_context_the_scorer_cannot_read_is_reported_not_fired(index):
    scorers = CountingScorers()
    ctx = {"event": {"id": "c1", "text": None}, "employee": {"id": "E1"}, "profile": {},
           "rule": {}, "vars": {}}
    result, = decide([("chat.message", ctx)], index, scorers)
    assert result.matches == []
    assert any(e.rule_id == "score.intent" for e in result.errors)


def test_the_console_dry_run_decides_as_ingest_does(index, sqlite_engine):
    from wendu.api.web_dryrun import dry_run
    from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR

    plan = next(p for p in index.rules_for("chat.message") if p.rule_id == "needs-guide-chat")
    factory = make_session_factory(sqlite_engine)
    with factory.begin() as session:
        ingest(session, [{"id": "hire-E1", "type": "employee.hired", "employee_id": "E1",
                          "occurred_at": "2026-11-02T09:00:00+08:00",
                          "data": {"name": "张伟", "hired_on": "2021-07-05",
                                   "hometown_city": "杭州"}}], index)
    with factory() as session:
        quiet = dry_run(session, plan, chat(1, "中午一起吃饭吗"), str(DEFAULT_TEMPLATES_DIR))
        asked = dry_run(session, plan, chat(2, "杭州的公积金怎么提取？"),
                        str(DEFAULT_TEMPLATES_DIR))
    assert quiet.ok and not quiet.fired
    assert asked.ok and asked.fired, asked.errors
    message, = asked.messages
    assert message.get("error") is None, message
    assert message["to"] == "张伟 (E1)" and message["subject"] == "公积金提取指南"
    assert "浙里办" in message["body"]
    assert asked.values["score.intent.label"] == "housing_fund_withdrawal"
