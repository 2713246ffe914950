"""Backtests say what live ingest does: the same firings on the same events, sending nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from wendu.backtest import backtest, stored_event
from wendu.cli.main import app
from wendu.demo.history import company_events, import_history
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.plan import EventTrigger
from wendu.rules.ruleset import load_ruleset
from wendu.rulestore import sync_rules
from wendu.scorers.synth import generate
from wendu.store.db import make_engine, make_session_factory, transaction, upgrade
from wendu.store.models import Event, Firing, Notification

LIBRARY = Path(__file__).resolve().parents[1] / "rules" / "library"
OVERTIME = LIBRARY / "overtime_care.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def history() -> list[dict]:
    """Ten weeks of a 60-person company: heavy weeks, surveys, chat, reviews, courses."""
    return list(company_events(generate(60, 10, seed=3)))


def event_rules() -> list:
    loaded = load_ruleset([LIBRARY])
    assert loaded.errors == []
    return [p for p in loaded.plans if isinstance(p.trigger, EventTrigger)]


def test_a_backtest_fires_what_live_ingest_fired_on_the_same_events(factory, history):
    plans = event_rules()
    index = RuleIndex(plans)
    for start in range(0, len(history), 700):
        with transaction(factory) as session:
            ingest(session, history[start:start + 700], index)
    with factory() as session:
        live = set(session.scalars(select(Firing.workflow_id)))
        stored = [stored_event(row) for row in
                  session.scalars(select(Event).order_by(Event.occurred_at, Event.id))]
    report = backtest(stored, [("live", p) for p in plans])
    replayed = {f.workflow_id for t in report.tallies for f in t.fired}
    by_rule = {t.rule_id: len(t.fired) for t in report.tallies}
    # The history makes the library act: heavy weeks, satisfaction drops, chat needs.
    assert by_rule["overtime-care-week"] > 20 and by_rule["needs-guide-chat"] > 0
    assert replayed == live
    assert report.events == len(history)
    # The rule's 7-day cooldown held back the Mondays after heavy weeks, live and replayed.
    assert {t.rule_id: t.cooldown for t in report.tallies}["overtime-care-week"] > 0


def test_the_draft_and_the_live_version_side_by_side(tmp_path, history):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in history),
                      encoding="utf-8")
    draft = tmp_path / "overtime.yaml"
    draft.write_text(OVERTIME.read_text(encoding="utf-8")
                     .replace("overtime_hours_7d > 20", "overtime_hours_7d > 12")
                     .replace("version: 1", "version: 2"), encoding="utf-8")
    args = ["rules", "backtest", str(draft), "--events", str(events), "--live", str(OVERTIME),
            "--until", "2026-11-29", "--since", "70d"]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "live v1" in shown.output and "draft v2" in shown.output
    assert "Nothing was sent." in shown.output
    fired = next(line for line in shown.output.splitlines() if line.strip().startswith("fired "))
    live_n, draft_n = (int(n) for n in fired.split()[1:])
    assert draft_n > live_n > 0  # a lower threshold reaches more weeks
    assert "most-messaged people (draft):" in shown.output
    # The Mondays after heavy weeks, held back by the rule's 7-day cooldown, are counted.
    cooled = next(line for line in shown.output.splitlines() if "cooldown (fired recently)" in line)
    assert all(int(n) > 0 for n in cooled.split()[-2:])

    as_json = runner.invoke(app, [*args, "--json"])
    report = json.loads(as_json.output)
    live, drafted = report["versions"]
    assert (live["fired"], drafted["fired"]) == (live_n, draft_n)
    # Two messages a firing (manager and employee), each on the person's preferred channel.
    assert sum(drafted["channels"].values()) == drafted["messages"] <= 2 * drafted["fired"]
    assert set(drafted["channels"]) <= {"wecom", "email"}
    assert sum(drafted["by_week"].values()) == drafted["fired"]
    top = next(iter(drafted["top_recipients"]))
    assert report["names"][top]  # people are named, not only numbered


def test_a_bad_events_file_names_its_line(tmp_path, history):
    events = tmp_path / "events.jsonl"
    broken = dict(history[5], data={**history[5]["data"]})
    broken["data"].pop(next(iter(broken["data"])))
    lines = [json.dumps(e) for e in history[:5]] + [json.dumps(broken), "{not json"]
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "backtest", str(OVERTIME), "--events", str(events)])
    assert result.exit_code == 1
    assert f"{events}:6:" in result.output


def test_imported_history_fires_nothing_and_backtests_against_the_stored_version(
        tmp_path, history, monkeypatch):
    home = tmp_path / "home"
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in history),
                      encoding="utf-8")
    imported = runner.invoke(app, ["demo", "import", str(events), "--data-dir", str(home)])
    assert imported.exit_code == 0, imported.output
    assert f"{len(history):,} events stored" in imported.output
    again = runner.invoke(app, ["demo", "import", str(events), "--data-dir", str(home)])
    assert "0 events stored" in again.output  # ids are fixed: a second import adds nothing
    engine = make_engine(f"sqlite:///{home / 'wendu.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Firing)) == 0
        assert session.scalar(select(func.count()).select_from(Notification)) == 0
    # The database runs version 1; the draft file is compared with it.
    plan = load_ruleset([OVERTIME]).plans[0]
    with transaction(factory) as session:
        sync_rules(session, [plan], {plan.rule_id: plan.source}, {plan.rule_id: str(OVERTIME)})
    engine.dispose()
    draft = tmp_path / "overtime.yaml"
    draft.write_text(OVERTIME.read_text(encoding="utf-8").replace("version: 1", "version: 2")
                     .replace("late_departures_7d >= 5", "late_departures_7d >= 3"),
                     encoding="utf-8")
    monkeypatch.delenv("WENDU_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["rules", "backtest", str(draft), "--data-dir", str(home),
                                 "--until", "2026-11-29", "--json"])
    assert result.exit_code == 0, result.output
    live, drafted = json.loads(result.output)["versions"]
    assert (live["label"], live["version"], drafted["version"]) == ("live", 1, 2)
    assert drafted["fired"] >= live["fired"] > 0


def test_import_history_stops_at_a_bad_line(tmp_path, sqlite_engine, history):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([*(json.dumps(e) for e in history[:3]), "[]"]) + "\n",
                      encoding="utf-8")
    with pytest.raises(ValueError, match=r"events.jsonl:4"):
        import_history(make_session_factory(sqlite_engine), events)
