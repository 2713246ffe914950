"""GET /api/v1/rules and POST /api/v1/rules/reload: versions, disabling, errors, schedules."""

from __future__ import annotations

import asyncio
import contextlib
import shutil

import pytest
from sqlalchemy import func, select
from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy
from temporalio.service import RPCError

from wendu.rules.ruleset import EXAMPLES_DIR
from wendu.store.models import RuleVersion

from .conftest import hire, week

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def rules_by_id(api) -> dict:
    r = await api.get("/api/v1/rules")
    assert r.status_code == 200
    return {rule["id"]: rule for rule in r.json()}


async def test_rules_are_listed_with_version_trigger_and_recent_firings(api, emp):
    rule = (await rules_by_id(api))["overtime-care"]
    assert (rule["version"], rule["enabled"], rule["firings_7d"]) == (1, True, 0)
    assert rule["trigger"] == {"kind": "event", "event": "attendance.day_closed"}
    assert len(rule["digest"]) == 64 and rule["source_path"].endswith("overtime_care.yaml")
    await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
    assert (await rules_by_id(api))["overtime-care"]["firings_7d"] == 1


async def test_reload_adds_a_version_and_the_new_condition_applies(api, rules_dir, factory, emp):
    path = rules_dir / "overtime_care.yaml"
    old = (await rules_by_id(api))["overtime-care"]
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("version: 1", "version: 2").replace(
            "profile.overtime_hours_7d > 20 or profile.late_departures_7d >= 5",
            "profile.overtime_hours_7d > 100",
        ),
        encoding="utf-8",
    )
    r = await api.post("/api/v1/rules/reload")
    assert r.status_code == 200, r.text
    assert r.json()["rules"]["updated"] == ["overtime-care"]
    new = (await rules_by_id(api))["overtime-care"]
    assert new["version"] == 2 and new["digest"] != old["digest"]
    with factory() as s:
        versions = s.scalar(select(func.count()).select_from(RuleVersion))
    assert versions == 2  # the old version stays for workflows still running it
    r = await api.post("/api/v1/events", json={"events": week(emp)})
    assert not any(e["fired"] for e in r.json()["results"])

    # Reloading an unchanged folder changes nothing.
    r = await api.post("/api/v1/rules/reload")
    assert r.json()["rules"]["unchanged"] == ["overtime-care"]


async def test_a_rule_removed_from_the_folder_is_disabled_not_deleted(api, rules_dir, emp):
    (rules_dir / "overtime_care.yaml").unlink()
    r = await api.post("/api/v1/rules/reload")
    assert r.status_code == 200 and r.json()["rules"]["disabled"] == ["overtime-care"]
    rule = (await rules_by_id(api))["overtime-care"]
    assert rule["enabled"] is False and rule["version"] == 1
    r = await api.post("/api/v1/events", json={"events": week(emp)})
    assert not any(e["fired"] for e in r.json()["results"])


async def test_a_broken_rule_file_is_reported_and_its_last_version_keeps_running(
    api, rules_dir, emp
):
    path = rules_dir / "overtime_care.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "profile.overtime_hours_7d", "profile.overtime_7d", 1
        ),
        encoding="utf-8",
    )
    r = await api.post("/api/v1/rules/reload")
    assert r.status_code == 422
    [problem] = r.json()["detail"]["problems"]
    assert f"{path}:" in problem and "overtime_7d" in problem
    rule = (await rules_by_id(api))["overtime-care"]
    assert rule["enabled"] is True and rule["version"] == 1
    r = await api.post("/api/v1/events", json={"events": [hire(emp), *week(emp)]})
    assert [f["rule_id"] for e in r.json()["results"] for f in e["fired"]] == ["overtime-care"]


async def test_schedule_rules_become_temporal_schedules(api, rules_dir, temporal):
    shutil.copy(EXAMPLES_DIR / "weekly_attrition_scan.yaml", rules_dir)
    r = await api.post("/api/v1/rules/reload")
    assert r.status_code == 200, r.text
    handle = temporal.get_schedule_handle("rule-schedule/weekly-attrition-scan")
    try:
        desc = await handle.describe()
        action = desc.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.id) == ("ScanWorkflow", "scan/weekly-attrition-scan")
        [cal] = desc.schedule.spec.calendars  # the server stores the cron as a calendar
        assert [(r.start, r.end) for r in (*cal.hour, *cal.minute, *cal.day_of_week)] == [
            (9, 9), (0, 0), (1, 1)]  # 09:00 on Mondays
        assert desc.schedule.spec.time_zone_name == "Asia/Shanghai"
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        rule = (await rules_by_id(api))["weekly-attrition-scan"]
        assert rule["trigger"]["kind"] == "schedule"
        r = await api.post("/api/v1/rules/reload")  # again: the schedule is updated in place
        assert r.json()["schedules"]["updated"] == ["weekly-attrition-scan"]

        (rules_dir / "weekly_attrition_scan.yaml").unlink()
        r = await api.post("/api/v1/rules/reload")
        assert r.json()["schedules"]["disabled"] == ["weekly-attrition-scan"]
        with pytest.raises(RPCError):
            await handle.describe()
    finally:
        with contextlib.suppress(RPCError):
            await handle.delete()


async def test_a_scheduled_rule_runs_now_on_request(api, rules_dir, temporal):
    shutil.copy(EXAMPLES_DIR / "weekly_attrition_scan.yaml", rules_dir)
    assert (await api.post("/api/v1/rules/reload")).status_code == 200
    handle = temporal.get_schedule_handle("rule-schedule/weekly-attrition-scan")
    try:
        r = await api.post("/api/v1/rules/weekly-attrition-scan/run")
        assert r.status_code == 200, r.text
        assert r.json()["schedule_id"] == "rule-schedule/weekly-attrition-scan"
        for _ in range(50):  # the schedule starts its scan asynchronously
            desc = await handle.describe()
            if desc.info.recent_actions:
                break
            await asyncio.sleep(0.1)
        [started] = desc.info.recent_actions
        assert started.action.workflow_id.startswith("scan/weekly-attrition-scan")
        # No worker here: end the scan, so a run within the same second can start again.
        await temporal.get_workflow_handle(started.action.workflow_id).terminate()
    finally:
        with contextlib.suppress(RPCError):
            await handle.delete()


async def test_only_a_known_enabled_scheduled_rule_runs_on_request(api, rules_dir):
    r = await api.post("/api/v1/rules/no-such-rule/run")
    assert r.status_code == 404 and "no-such-rule" in r.json()["detail"]
    r = await api.post("/api/v1/rules/overtime-care/run")
    assert r.status_code == 409 and "runs on events" in r.json()["detail"]
    shutil.copy(EXAMPLES_DIR / "weekly_attrition_scan.yaml", rules_dir)
    path = rules_dir / "weekly_attrition_scan.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("version: 1", "version: 1\nenabled: false", 1), encoding="utf-8")
    assert (await api.post("/api/v1/rules/reload")).status_code == 200
    r = await api.post("/api/v1/rules/weekly-attrition-scan/run")
    assert r.status_code == 409 and "disabled" in r.json()["detail"]


async def test_reload_without_a_rule_folder_is_a_conflict(settings, temporal, factory):
    from .conftest import ALL_SCOPES, make_token, running_app

    settings.rules_dir = None
    async with running_app(settings, temporal, make_token(factory, ALL_SCOPES)) as api:
        assert (await api.post("/api/v1/rules/reload")).status_code == 409
        assert await rules_by_id(api) == {}


async def test_a_missing_rule_folder_disables_nothing(api, settings, rules_dir):
    shutil.rmtree(rules_dir)
    r = await api.post("/api/v1/rules/reload")
    assert r.status_code == 422
    assert "does not exist" in r.json()["detail"]["problems"][0]
    assert (await rules_by_id(api))["overtime-care"]["enabled"] is True
