"""`wendu rules test` end to end: the real CLI on the shipped library and on broken copies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from wendu.cli.rules import app

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "rules" / "library"
WENDU = str(Path(sys.executable).parent / "wendu")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # As a user runs it: the site's defaults (the suite pins the work calendar off for itself).
    env = {k: v for k, v in os.environ.items() if k != "WENDU_WORK_CALENDAR"}
    return subprocess.run([WENDU, "rules", "test", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=170, env=env)


def _line_col(path: Path, needle: str, after: str = "") -> tuple[int, int]:
    """Where `needle` is written in `path` (the first time after the line holding `after`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    for i in range(start, len(lines)):
        col = lines[i].find(needle)
        if col >= 0:
            return i + 1, col + 1
    raise AssertionError(f"{needle!r} not in {path}")


def test_the_library_passes_with_junit_xml_and_coverage(tmp_path):
    junit = tmp_path / "out" / "rules.xml"
    result = _run("rules/library", "--junit-xml", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(r"^(\d+) passed, 0 failed in [\d.]+s$", result.stdout, re.M)
    assert summary, result.stdout
    passed = int(summary[1])
    # Every library rule is tested, and the coverage names what no case reached, at its line.
    assert "coverage: 9/9 rules tested" in result.stdout
    assert re.search(r"^  rules/library/attrition_scan\.yaml:\d+:\d+: step steps\[2\]\.then\[1\] "
                     r"\(record\) never reached$", result.stdout, re.M), result.stdout
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == passed >= 25
    assert not ET.parse(junit).getroot().findall(".//failure")
    files = {c.get("classname") for c in cases}
    assert {f"rules/library/tests/{p.stem}.yaml" for p in LIBRARY.glob("[!_]*.yaml")} <= files


def test_a_changed_threshold_fails_the_named_test_at_its_line(tmp_path):
    copy = tmp_path / "library"
    shutil.copytree(LIBRARY, copy)
    rule = copy / "overtime_care.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace(
        "profile.overtime_hours_7d > 20", "profile.overtime_hours_7d > 40"), encoding="utf-8")
    test_file = copy / "tests" / "overtime_care.yaml"
    junit = tmp_path / "rules.xml"
    result = _run(str(test_file), "--junit-xml", str(junit))
    assert result.returncode == 1, result.stdout + result.stderr
    line, col = _line_col(test_file, "fired:", after="24 overtime hours in four days")
    # The first case books 24 h in four late days: under 40 h and under 5 late days.
    assert (f"{test_file}:{line}:{col}: fired expected [E1/2026-W47], got [] "
            "[24 overtime hours in four days") in result.stdout.replace("  [", " ["), result.stdout
    line, col = _line_col(test_file, "outcomes:", after="24 overtime hours in four days")
    assert f"{test_file}:{line}:{col + len('outcomes: {')}: outcome overtime_alerts expected " \
           "[1], got []" in result.stdout
    # The other cases still hold: late clock-outs fire whatever the hours.
    assert re.search(r"^5 passed, 1 failed in", result.stdout, re.M), result.stdout
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert len(failures) == 1 and "fired expected [E1/2026-W47], got []" in \
        failures[0].get("message")


BROKEN = """\
rule: overtime-care-week
clock: 2026-11-16T09:00:00+08:00
people:
  E1: {name: 张伟, manger_id: M1}
cases:
  - name: typos
    events:
      - event: attendance.day_close
        employee: E1
      - advance: 3 days
      - {event: chat.message, employee: E1, txt: hello}
    expect:
      fired: no
      mesages: []
"""


def test_a_malformed_test_file_gets_file_line_col_messages(tmp_path):
    tests = tmp_path / "rules" / "tests"
    tests.mkdir(parents=True)
    shutil.copy(LIBRARY / "overtime_care.yaml", tmp_path / "rules")
    broken = tests / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path / "rules"), "--no-coverage"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout.splitlines()[:1] == [
        f"{broken}:14:7: error: unknown key 'mesages'; did you mean 'messages'?"]

    broken.write_text(BROKEN.replace("      mesages: []\n", ""), encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path / "rules"), "--no-coverage"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:4] == [
        f"{broken}:4:18: error: unknown field 'manger_id'; did you mean 'manager_id'?",
        f"{broken}:8:16: error: unknown event type 'attendance.day_close'; "
        "did you mean 'attendance.day_closed'?",
        f"{broken}:10:18: error: '3 days' is not a duration; write it like 90s, 30m, 2h, 1d, "
        "1w, 1d12h or ISO-8601 P2D, PT4H",
        f"{broken}:11:45: error: chat.message has no field 'txt'; did you mean 'text'?",
    ]
    assert "0 passed, 0 failed" in result.stdout
