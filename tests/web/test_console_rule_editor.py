"""The console's rule editor on the shipped rule library: it checks as `wendu rules validate`
does, dry-runs as ingest decides (set steps, the trigger's own event type, schedule rules on
one employee, each condition with its values, a key that already fired), and saves only
what it should (a new version number, this editor's id, the file's line endings)."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from wendu.rules.ruleset import load_ruleset
from wendu.store.models import Firing, Rule
from wendu.store.models_accounts import AuditLog

from .conftest import login, running_app, seed_company

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIBRARY = Path(__file__).resolve().parents[2] / "rules" / "library"


@pytest_asyncio.fixture(loop_scope="session")
async def library(settings, temporal, factory) -> AsyncIterator[httpx.AsyncClient]:
    """The console over a copy of the rule library (groups included)."""
    for f in settings.rules_dir.iterdir():
        f.unlink()
    for f in LIBRARY.glob("*.yaml"):
        shutil.copy(f, settings.rules_dir)
    seed_company(factory, tasks=False)
    async with running_app(settings, temporal) as http:
        yield http


def text_of(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))


def heavy_day(emp: str) -> str:
    return json.dumps({"type": "attendance.day_closed", "employee_id": emp,
                       "occurred_at": "2026-11-27T23:30:00+08:00",
                       "data": {"day": "2026-11-27", "clock_in": "2026-11-27T09:00:00+08:00",
                                "clock_out": "2026-11-27T23:30:00+08:00",
                                "overtime_hours": 25}})


async def test_the_editor_checks_and_dry_runs_as_the_engine_does(library, factory, settings):
    http = library
    csrf = await login(http, "hr")
    http.cookies.set("wendu_lang", "en")
    assert load_ruleset([settings.rules_dir]).errors == []  # what `wendu rules validate` says

    # A rule addressing a group of _groups.yaml checks clean, in the page and the JSON check.
    source = (settings.rules_dir / "satisfaction_drop.yaml").read_text()
    r = await http.post("/console/rules/satisfaction-drop-course/upload",
                        data={"csrf": csrf, "source": source, "intent": "check"})
    assert r.status_code == 200 and 'id="no-errors"' in r.text, text_of(r)[-2000:]
    r = await http.post("/console/api/rules/check", json={"source": source},
                        headers={"X-CSRF-Token": csrf})
    assert r.json() == {"ok": True, "problems": []}
    # Its page offers a sample event of its own trigger type, not an attendance day.
    page = await http.get("/console/rules/satisfaction-drop-course")
    assert "&#34;type&#34;: &#34;survey.response&#34;" in page.text or \
        '"type": "survey.response"' in html.unescape(page.text)

    # Dry run of the unchanged overtime rule: its `set` step is bound, so the message renders.
    week = "/console/rules/overtime-care-week/upload"
    overtime = (settings.rules_dir / "overtime_care.yaml").read_text()
    r = await http.post(week, data={"csrf": csrf, "source": overtime, "intent": "dry_run",
                                    "event": heavy_day("A1")})
    shown = text_of(r)
    assert 'id="verdict">Would fire<' in r.text, shown[-3000:]
    assert "https://hr.example.com/service/comp-time" in shown
    assert "undefined" not in shown
    wid = re.search(r"\(<code>(rule/overtime-care-week/[^<]+)</code>\)", r.text).group(1)

    # Would not fire: each condition, its outcome and the values it read.
    quiet = heavy_day("A2").replace('"overtime_hours": 25', '"overtime_hours": 1')
    r = await http.post(week, data={"csrf": csrf, "source": overtime, "intent": "dry_run",
                                    "event": quiet})
    assert 'id="verdict">Would not fire<' in r.text
    conditions = text_of(r).split("Condition by condition", 1)[1]
    assert "does not hold" in conditions
    assert "profile.overtime_hours_7d = 1" in conditions
    assert "profile.late_departures_7d = 1" in conditions

    # The key has fired before: a real event would do nothing, and the page says so.
    with factory.begin() as s:
        s.add(Firing(rule_id="overtime-care-week", rule_digest="d", workflow_id=wid,
                     dedupe_key=wid.removeprefix("rule/overtime-care-week/"),
                     employee_id="A1", status="started", context={}))
    r = await http.post(week, data={"csrf": csrf, "source": overtime, "intent": "dry_run",
                                    "event": heavy_day("A1")})
    assert 'id="already-fired"' in r.text and "a real event would do nothing" in r.text

    # A schedule rule is previewed on a chosen employee, as if the schedule ran now.
    scan = (settings.rules_dir / "attrition_scan.yaml").read_text()
    r = await http.post("/console/rules/attrition-scan-weekly/upload",
                        data={"csrf": csrf, "source": scan, "intent": "dry_run",
                              "employee": "A1"})
    assert 'id="verdict">Would fire<' in r.text, text_of(r)[-2000:]
    assert re.search(r'id="dedupe-key">A1/\d{4}-W\d\d<', r.text)
    r = await http.post("/console/rules/attrition-scan-weekly/upload",
                        data={"csrf": csrf, "source": scan, "intent": "dry_run",
                              "employee": "NOBODY"})
    assert "employee: no employee &#39;NOBODY&#39;" in r.text
    r = await http.post("/console/api/rules/check", json={"source": scan, "employee": "A1"},
                        headers={"X-CSRF-Token": csrf})
    assert r.json()["dry_run"]["fired"] is True
    assert r.json()["dry_run"]["employee_id"] == "A1"
    with factory() as s:  # dry runs start nothing
        assert s.scalars(select(Firing.workflow_id)).all() == [wid]


async def test_saving_needs_a_new_version_this_editors_id_and_keeps_line_endings(
    library, factory, settings
):
    http = library
    csrf = await login(http, "hr")
    http.cookies.set("wendu_lang", "en")
    week = "/console/rules/overtime-care-week/upload"
    path = settings.rules_dir / "overtime_care.yaml"
    source = path.read_text()
    version_line = next(n for n, x in enumerate(source.splitlines(), 1)
                        if x.startswith("version:"))

    # Changed, same version: refused at the version line, and the page said so beforehand.
    changed = source.replace("> 20", "> 25")
    page = await http.get("/console/rules/overtime-care-week")
    assert 'id="version-hint"' in page.text and "v1 → v2" in page.text
    r = await http.post(week, data={"csrf": csrf, "source": changed, "intent": "check"})
    assert r.status_code == 200
    assert re.search(rf'data-line="{version_line}">{version_line}:1 warning: the rule changed',
                     r.text)
    r = await http.post("/console/api/rules/check", headers={"X-CSRF-Token": csrf},
                        json={"source": changed, "rule": "overtime-care-week"})
    assert [(p["line"], p["severity"]) for p in r.json()["problems"]] == [
        (version_line, "warning")]  # what the editor shows while typing
    r = await http.post(week, data={"csrf": csrf, "source": changed, "intent": "save"})
    assert r.status_code == 422
    assert re.search(rf'data-line="{version_line}">{version_line}:1 error: the rule changed but '
                     r"its version is still 1: set `version: 2`", r.text)

    # Another id pasted into this editor: refused, no rule is created.
    other = changed.replace("id: overtime-care-week", "id: overtime-care-other")
    r = await http.post(week, data={"csrf": csrf, "source": other, "intent": "save"})
    assert r.status_code == 422 and "this editor is for rule &#39;overtime-care-week&#39;" in r.text
    with factory() as s:
        assert s.get(Rule, "overtime-care-other") is None

    # A browser posts CRLF; the file keeps its LF line endings.
    v2 = changed.replace("version: 1", "version: 2")
    r = await http.post(week, data={"csrf": csrf, "source": v2.replace("\n", "\r\n"),
                                    "intent": "save"})
    assert r.status_code == 303
    assert path.read_bytes() == v2.encode()
    with factory() as s:
        assert s.get(Rule, "overtime-care-week").version == 2

    # A new rule from a shipped one: a copy under a new id, saved as a rule of its own.
    page = await http.get("/console/rules/new", params={"start": "library/overtime_care"})
    assert page.status_code == 200 and "id: overtime-care-week-copy" in page.text
    copy = html.unescape(re.search(r'data-editor="yaml"[^>]*>(.*?)</textarea>', page.text,
                                   re.S).group(1))
    r = await http.post("/console/rules/new", data={"csrf": csrf, "source": copy,
                                                    "intent": "save"})
    assert r.status_code == 303
    assert r.headers["location"] == "/console/rules/overtime-care-week-copy?saved=1"
    # The same id again from "New rule" would overwrite it: refused.
    r = await http.post("/console/rules/new", data={"csrf": csrf, "source": copy,
                                                    "intent": "save"})
    assert r.status_code == 422 and "exists already" in r.text
    assert (settings.rules_dir / "overtime-care-week-copy.yaml").is_file()
    with factory() as s:
        audited = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))
                   if a.target_type == "rule"]
    assert audited == ["rule.upload", "rule.upload"]


async def test_a_zh_dry_run_names_the_employee_and_says_when_in_local_time(library, factory,
                                                                          settings):
    http = library
    csrf = await login(http, "hr")
    http.cookies.set("wendu_lang", "zh-CN")
    week = "/console/rules/overtime-care-week/upload"
    overtime = (settings.rules_dir / "overtime_care.yaml").read_text()
    form = {"csrf": csrf, "source": overtime, "intent": "dry_run", "event": heavy_day("A1")}
    r = await http.post(week, data=form)
    wid = re.search(r"\(<code>(rule/overtime-care-week/[^<]+)</code>\)", r.text).group(1)
    with factory.begin() as s:  # 02:15 UTC: 10:15 in Shanghai
        s.add(Firing(rule_id="overtime-care-week", rule_digest="d", workflow_id=wid,
                     dedupe_key=wid.removeprefix("rule/overtime-care-week/"), employee_id="A1",
                     status="started", context={},
                     created_at=datetime(2026, 11, 27, 2, 15, tzinfo=UTC)))
    r = await http.post(week, data=form)
    section = r.text.split('id="dry-run"', 1)[1].split("</section>", 1)[0]
    assert '<a href="/console/employees/A1">Name A1</a> <small class="muted">A1</small>' in section
    assert 'id="already-fired-at">2026年11月27日（周五）10:15<' in section, section
    assert "已启动" in section and "started" not in section and "UTC" not in section
    assert "<strong>→ Name M1 (M1)</strong> [主管; 本人首选渠道; en]" in section, section
