"""The rule-test file format: loading, times, the JSON Schema and coverage inference."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wendu.rules.errors import RuleErrors
from wendu.ruletest.coverage import _parent_and_earlier
from wendu.ruletest.spec import EventDoc, load_rule_test, ruletest_json_schema
from wendu.ruletest.timeline import build_event, resolve_at, server_offset

TESTS = Path(__file__).resolve().parents[2] / "rules" / "library" / "tests"
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=SH)  # a Monday


def test_every_library_test_file_loads():
    files = sorted(TESTS.glob("*.yaml"))
    assert len(files) >= 9
    for file in files:
        test = load_rule_test(file)
        assert test.doc.cases and all(test.items[i] or c.expect
                                      for i, c in enumerate(test.doc.cases))


def test_a_case_that_expects_nothing_is_refused(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("rule: r\nclock: 2026-11-16T09:00:00+08:00\ncases:\n"
                    "  - name: idle\n    events:\n      - advance: 1d\n", encoding="utf-8")
    with pytest.raises(RuleErrors) as err:
        load_rule_test(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:4:5: error: case 'idle' expects nothing: add an 'expect:'"]


@pytest.mark.parametrize(("at", "expected"), [
    (None, NOW),
    ("+2h", NOW + timedelta(hours=2)),
    ("22:30", datetime(2026, 11, 16, 22, 30, tzinfo=SH)),
    ("08:00", datetime(2026, 11, 17, 8, 0, tzinfo=SH)),       # already past today: tomorrow
    (1350, datetime(2026, 11, 16, 22, 30, tzinfo=SH)),         # YAML 1.1 read 22:30 as minutes
    ("2026-11-10T10:00:00", datetime(2026, 11, 10, 10, 0, tzinfo=SH)),  # before now: the past
])
def test_event_times(at, expected):
    assert resolve_at(at, NOW) == expected


def test_the_server_runs_whole_weeks_after_the_clock():
    server = datetime(2026, 12, 2, 20, 0, tzinfo=ZoneInfo("UTC"))
    offset = server_offset(NOW, server)
    assert offset == timedelta(weeks=3) and NOW + offset >= server
    assert server_offset(server + timedelta(days=1), server) == timedelta(0)


def test_repeated_events_fill_the_day_and_templates():
    doc = EventDoc.model_validate({"event": "attendance.day_closed", "employee": "E1",
                                   "clock_out": "{{ day }}T22:30:00+08:00",
                                   "clock_in": "{{ day }}T09:00:00+08:00", "overtime_hours": 4})
    event = build_event(doc, datetime(2026, 11, 17, 22, 30, tzinfo=SH), 2, "c0-e1")
    assert event["id"] == "c0-e1-2"
    assert event["data"] == {"day": "2026-11-17", "clock_in": "2026-11-17T09:00:00+08:00",
                             "clock_out": "2026-11-17T22:30:00+08:00", "overtime_hours": 4}
    assert event["occurred_at"] == "2026-11-17T22:30:00+08:00"


def test_a_step_that_ran_implies_its_path():
    assert _parent_and_earlier("steps[2].then[1]") == [
        "steps[2].then[0]", "steps[2]", "steps[0]", "steps[1]"]
    assert _parent_and_earlier("steps[0]") == []


def test_the_schema_describes_every_key_the_library_tests_use():
    schema = ruletest_json_schema()
    json.dumps(schema)  # plain JSON
    defs = schema["$defs"]
    assert defs["CaseDoc"]["properties"]["events"]["items"]["anyOf"]
    known = set(schema["properties"])
    for model in defs.values():
        known |= set(model.get("properties", {}))
    used: set[str] = set()
    for file in TESTS.glob("*.yaml"):
        test = load_rule_test(file)
        used |= set(test.loaded.data)
        for case in test.loaded.data["cases"]:
            used |= set(case)
            for part in (case.get("expect") or {}, *case.get("events", [])):
                used |= {k for k in part if k not in (test.doc.people or {})}
    event_fields = {"project_id", "project_name", "percent_done", "clock_in", "clock_out",
                    "overtime_hours", "text", "channel", "survey_id", "satisfaction", "period",
                    "scores", "course_id", "rating", "name", "hired_on", "manager_id", "hrbp_id"}
    assert used - event_fields <= known, used - event_fields - known
