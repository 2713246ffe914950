"""`wendu rules validate` reports every problem of a file in one pass: the missing keys and
bad steps the shape check finds, and what the compiler finds in the rest, file:line:col each."""

from __future__ import annotations

from typer.testing import CliRunner

from wendu.cli.rules import app
from wendu.rules.compiler import check
from wendu.rules.loader import load

runner = CliRunner()

BROKEN = """\
version: 1
title: Bad rule
trigger: {event: attendance.day_closed}
when:
  - profile.overtime_hourz_7d > 20
  - event.nope == 1
steps:
  - notify:
      to: manager
      template: care_overtime_managr
  - notify: {to: employee, template: care_overtime_employee, colour: red}
  - set:
      x: "1 +* 2"
  - record: {metric: m, value: "employee.salary"}
"""


def test_missing_id_and_dedupe_are_reported_with_every_other_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{path}:1:1: error: missing required key 'dedupe'",
        f"{path}:1:1: error: missing required key 'id'",
        f"{path}:5:13: error: profile has no field 'overtime_hourz_7d'; did you mean "
        "'overtime_hours_7d'?",
        f"{path}:6:11: error: event (attendance.day_closed) has no field 'nope'; its fields: "
        "clock_in, clock_out, day, employee_id, id, occurred_at, overtime_hours, type, weekend",
        lines[4],  # the template folder's path is the installation's
        f"{path}:11:62: error: unknown key 'colour'; valid keys here: to, channels, template, "
        "urgent, once_per, category, as",
        f"{path}:13:14: error: unexpected '*'",
        lines[7],
    ]
    assert lines[4].startswith(f"{path}:10:17: error: unknown template 'care_overtime_managr'; "
                               "did you mean 'care_overtime_manager'?")
    assert lines[7].startswith(f"{path}:14:42: error: employee has no field 'salary'")
    assert "8 errors" in result.stderr


def test_a_missing_trigger_still_checks_the_steps_and_invents_nothing():
    text = BROKEN.replace("trigger: {event: attendance.day_closed}\n", "")
    result = check(load(text, "r.yaml"))
    messages = [str(p) for p in result.problems]
    assert result.plan is None
    assert "r.yaml:1:1: error: missing required key 'trigger'" in messages
    assert any("unknown template 'care_overtime_managr'" in m for m in messages)
    assert any("unexpected '*'" in m for m in messages)
    assert not any("stand" in m for m in messages)  # nothing about the stand-ins


def test_a_file_that_is_not_a_mapping_reports_only_that():
    result = check(load("- just\n- a list\n", "r.yaml"))
    assert [p.message for p in result.problems] == [
        "a rule file must be a mapping of keys to values, got a list"]
