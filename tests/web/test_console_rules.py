"""Rules through the console: checking, dry runs, saving a version, enabling and disabling,
each change audited with before and after; and the language of the pages."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Firing, Rule, RuleVersion
from wendu.store.models_accounts import AuditLog

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

SOURCE = (EXAMPLES_DIR / "overtime_care.yaml").read_text()
URL = "/console/rules/overtime-care/upload"


def attendance(emp: str, hours: object) -> str:
    return json.dumps({"type": "attendance.day_closed", "employee_id": emp,
                       "data": {"day": "2026-11-27", "clock_in": "2026-11-27T09:00:00+08:00",
                                "clock_out": "2026-11-27T23:00:00+08:00",
                                "overtime_hours": hours}})


async def test_dry_run_tells_whether_a_rule_fires_and_starts_nothing(console, factory):
    csrf = await login(console, "bp")  # an HR business partner may check and dry-run
    console.cookies.set("wendu_lang", "en")  # bp has no employee record, so no locale
    quiet = await console.post(URL, data={"csrf": csrf, "source": SOURCE, "intent": "dry_run",
                                          "event": attendance("A1", 1)})
    assert quiet.status_code == 200 and 'id="verdict">Would not fire<' in quiet.text
    bad = await console.post(URL, data={"csrf": csrf, "source": SOURCE, "intent": "dry_run",
                                        "event": attendance("A1", "many")})
    assert "event.data.overtime_hours" in bad.text
    broken = await console.post(URL, data={"csrf": csrf, "source": SOURCE, "intent": "dry_run",
                                           "event": "{not json"})
    assert "event: not JSON (line 1, column 2)" in broken.text
    with factory() as s:
        assert s.scalars(select(Firing).where(Firing.rule_id == "overtime-care")).all() == []
    # Saving is hr_admin's.
    r = await console.post(URL, data={"csrf": csrf, "source": SOURCE, "intent": "save"})
    assert r.status_code == 403


async def test_saving_a_version_and_switching_a_rule_off_are_audited(console, factory, settings):
    csrf = await login(console, "hr")
    wrong = SOURCE.replace("template: overtime_care", "template: overtime_cares")
    r = await console.post(URL, data={"csrf": csrf, "source": wrong, "intent": "save"})
    assert r.status_code == 422
    line = next(n for n, x in enumerate(wrong.splitlines(), 1) if "overtime_cares" in x)
    assert re.search(rf'data-line="{line}">{line}:\d+ error: [^<]*overtime_cares', r.text)

    v2 = SOURCE.replace("version: 1", "version: 2").replace("> 20", "> 30")
    r = await console.post(URL, data={"csrf": csrf, "source": v2, "intent": "save"})
    assert r.status_code == 303
    with factory() as s:
        rule = s.get(Rule, "overtime-care")
        assert rule.version == 2
        assert s.get(RuleVersion, (rule.id, rule.current_digest)).source_text == v2
    # Written to the rule folder too, so a reload of the folder keeps it.
    assert (settings.rules_dir / "overtime_care.yaml").read_text() == v2
    # The live index uses the new version at once: 25 hours no longer fire it.
    r = await console.post(URL, data={"csrf": csrf, "source": v2, "intent": "dry_run",
                                      "event": attendance("A1", 25)})
    assert 'id="verdict">Would not fire<' in r.text

    # Switching a rule off asks why; the reason is kept in the audit row.
    r = await console.post("/console/rules/overtime-care/state",
                           data={"csrf": csrf, "enabled": "false"})
    assert r.status_code == 422 and "Disabling a rule needs a reason." in r.text
    r = await console.post("/console/rules/overtime-care/state",
                           data={"csrf": csrf, "enabled": "false", "reason": "too noisy"})
    assert r.status_code == 303
    page = await console.get("/console/rules/overtime-care")
    assert 'id="rule-state">Disabled<' in page.text
    assert console.app.state.rules.plans == []  # type: ignore[attr-defined]
    with factory() as s:
        log = [(a.actor, a.action, a.before, a.after, a.note) for a in s.scalars(
            select(AuditLog).where(AuditLog.target_type == "rule").order_by(AuditLog.id))]
    assert [entry[:2] for entry in log] == [("hr", "rule.upload"), ("hr", "rule.disable")]
    assert log[0][2]["version"] == 1 and log[0][2]["source"] == SOURCE
    assert log[0][3]["version"] == 2 and log[0][3]["source"] == v2
    assert log[1][2:] == ({"enabled": True, "version": 2}, {"enabled": False, "version": 2},
                          "too noisy")


async def test_pages_follow_the_users_locale_and_the_language_switch(console, factory):
    from wendu.store.models import Employee

    with factory.begin() as s:
        s.get(Employee, "M1").locale = "zh-CN"
    await login(console, "m1")
    assert "我的任务" in (await console.get("/console/tasks")).text
    r = await console.get("/console/lang", params={"to": "en", "next": "/console/inbox"})
    assert r.status_code == 303 and r.headers["location"] == "/console/inbox"
    assert ">Inbox</h1>" in (await console.get("/console/inbox")).text
    # Only local targets: the switch cannot bounce anyone to another site.
    r = await console.get("/console/lang", params={"to": "en", "next": "//evil.example"})
    assert r.headers["location"] == "/console/tasks"


async def test_a_rule_switched_off_in_the_console_stays_off_across_folder_reloads(
    console, factory, settings
):
    from wendu.api.rules import reload_rules

    def enabled() -> bool:
        with factory() as s:
            return s.get(Rule, "overtime-care").enabled

    csrf = await login(console, "hr")
    r = await console.post("/console/rules/overtime-care/state",
                           data={"csrf": csrf, "enabled": "false", "reason": "paused"})
    assert r.status_code == 303 and not enabled()
    await reload_rules(settings, factory, None)  # as at the next start, the file unchanged
    assert not enabled()

    # An edited file is a new version, and its own `enabled:` (true by default) applies.
    path = settings.rules_dir / "overtime_care.yaml"
    path.write_text(SOURCE.replace("version: 1", "version: 2").replace("> 20", "> 25"))
    await reload_rules(settings, factory, None)
    assert enabled()

    # A file taken away switches its rule off; put back, its own `enabled:` applies again.
    text = path.read_text()
    path.unlink()
    await reload_rules(settings, factory, None)
    assert not enabled()
    path.write_text(text)
    await reload_rules(settings, factory, None)
    assert enabled()
