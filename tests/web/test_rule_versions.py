"""Rule versions as HR uses them: the history with who and when, two versions side by side,
and a rollback that the next event fires, audited; the same through the API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import Firing, Rule, RuleVersion
from wendu.store.models_accounts import AuditLog
from wendu.tokens import create_token

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

V1 = (EXAMPLES_DIR / "overtime_care.yaml").read_text()
V2 = V1.replace("version: 1", "version: 2").replace("> 20", "> 30")
RULE = "/console/rules/overtime-care"


def attendance(event_id: str, emp: str, hours: float) -> dict:
    return {"id": event_id, "type": "attendance.day_closed", "employee_id": emp,
            "occurred_at": "2026-11-27T23:00:00+08:00",
            "data": {"day": "2026-11-27", "clock_in": "2026-11-27T09:00:00+08:00",
                     "clock_out": "2026-11-27T23:00:00+08:00", "overtime_hours": hours}}


async def test_history_compare_and_rollback_in_the_console(console, factory, settings):
    csrf = await login(console, "hr")
    saved = await console.post(f"{RULE}/upload", data={"csrf": csrf, "source": V2,
                                                       "intent": "save"})
    assert saved.status_code == 303
    with factory() as s:
        versions = {v.version: v for v in s.scalars(select(RuleVersion))}
    v1, v2 = versions[1].digest, versions[2].digest
    assert (versions[1].created_by, versions[2].created_by) == ("folder", "hr")

    listing = await console.get(f"{RULE}/versions")
    assert listing.status_code == 200
    rows = re.findall(r'<tr data-digest="(\w+)"', listing.text)
    assert rows == [v2, v1]  # newest first
    assert "(current)" in listing.text.split(v1)[0]  # v2, listed first, is current
    assert f"?old={v1}&amp;new={v2}" in listing.text

    compared = await console.get(f"{RULE}/versions", params={"old": v1, "new": v2})
    changed = re.findall(r'<tr class="changed"><td><code>(.*?)</code></td><td><code>(.*?)'
                         r'</code></td></tr>', compared.text)
    assert ("version: 1", "version: 2") in changed
    assert any("&gt; 20" in a and "&gt; 30" in b for a, b in changed)
    assert 'id="rollback"' in compared.text

    # An HR business partner reads the history but cannot roll back.
    bp_csrf = await login(console, "bp")
    seen = await console.get(f"{RULE}/versions", params={"old": v1, "new": v2})
    assert seen.status_code == 200 and 'id="rollback"' not in seen.text
    refused = await console.post(f"{RULE}/rollback", data={"csrf": bp_csrf, "version": v1})
    assert refused.status_code == 403

    csrf = await login(console, "hr")
    done = await console.post(f"{RULE}/rollback", data={"csrf": csrf, "version": v1})
    assert done.status_code == 303 and done.headers["location"].endswith("rolled_back=1")
    with factory() as s:
        rule = s.get(Rule, "overtime-care")
        assert (rule.version, rule.current_digest) == (1, v1)
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "rule.rollback")).one()
        assert (audit.actor, audit.before["version"], audit.after["version"]) == ("hr", 2, 1)
    # The folder holds the version that is live, so a reload keeps it.
    assert (settings.rules_dir / "overtime_care.yaml").read_text() == V1
    again = await console.post(f"{RULE}/rollback", data={"csrf": csrf, "version": v1})
    assert again.status_code == 409 and "current version already" in again.text

    # The next event fires version 1: 25 hours are over its 20, not over version 2's 30.
    with factory.begin() as s:
        token = create_token(s, "producer", ["events:write", "rules:admin"])
    headers = {"Authorization": f"Bearer {token}"}
    posted = await console.post("/api/v1/events", headers=headers,
                                json={"events": [attendance("rb-1", "E1", 25)]})
    assert posted.status_code == 200, posted.text
    assert [f["rule_id"] for f in posted.json()["results"][0]["fired"]] == ["overtime-care"]
    with factory() as s:
        firing = s.scalars(select(Firing).where(Firing.event_id == "rb-1")).one()
        assert firing.rule_digest == v1


async def test_versions_diff_and_rollback_through_the_api(console, factory):
    with factory.begin() as s:
        token = create_token(s, "release-bot", ["rules:admin"])
    headers = {"Authorization": f"Bearer {token}"}
    csrf = await login(console, "hr")
    await console.post(f"{RULE}/upload", data={"csrf": csrf, "source": V2, "intent": "save"})

    listed = await console.get("/api/v1/rules/overtime-care/versions", headers=headers)
    assert [(v["version"], v["current"], v["created_by"]) for v in listed.json()] == [
        (1, False, "folder"), (2, True, "hr")]
    diff = await console.get("/api/v1/rules/overtime-care/diff", headers=headers,
                             params={"old": "1", "new": "2"})
    text = diff.json()["diff"]
    assert "-version: 1" in text and "+version: 2" in text and "> 30" in text

    missing = await console.post("/api/v1/rules/overtime-care/rollback", headers=headers,
                                 json={"version": "7"})
    assert missing.status_code == 404 and "stored: 1 (" in missing.json()["detail"]["message"]
    back = await console.post("/api/v1/rules/overtime-care/rollback", headers=headers,
                              json={"version": "1", "reason": "v2 is too quiet"})
    assert back.status_code == 200 and back.json()["version"] == 1
    with factory() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "rule.rollback")).one()
        assert (audit.actor, audit.note) == ("token:release-bot", "v2 is too quiet")
    unknown = await console.get("/api/v1/rules/nope/versions", headers=headers)
    assert unknown.status_code == 404 and "overtime-care" in unknown.json()["detail"]
