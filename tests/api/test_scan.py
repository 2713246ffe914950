"""The schedule scan: evaluates a schedule rule per active employee, fires and starts matches."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import ActivityEnvironment

from wendu.activities.scan import ScanActivities
from wendu.rules.catalog import profile_defaults
from wendu.rules.ruleset import EXAMPLES_DIR, load_ruleset
from wendu.rulestore import sync_rules
from wendu.store.models import Employee, Firing, Profile
from wendu.store.profile import fold_state
from wendu.workflows.io import ScanInput

pytestmark = pytest.mark.asyncio(loop_scope="session")
FIRE_TIME = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai, 2026-W02


@pytest.fixture
def plan(factory):
    loaded = load_ruleset([EXAMPLES_DIR / "weekly_attrition_scan.yaml"])
    assert loaded.ok, loaded.problems
    with factory.begin() as s:
        sync_rules(s, loaded.plans, loaded.sources, loaded.files)
    return loaded.plans[0]


def attendance_state(hours: float, first_day: date, days: int = 4) -> dict:
    """The profile state of `days` closed attendance days from `first_day`, `hours` in all."""
    state: dict = {}
    for i in range(days):
        day = (first_day + timedelta(days=i)).isoformat()
        state = fold_state(state, {"timezone": "Asia/Shanghai"}, {
            "id": f"a{i}", "type": "attendance.day_closed", "employee_id": "E",
            "occurred_at": f"{day}T23:00:00+08:00",
            "data": {"day": day, "clock_in": f"{day}T09:00:00+08:00",
                     "clock_out": f"{day}T20:00:00+08:00", "overtime_hours": hours / days}})
    return state


def seed(factory, tag: str, people: dict | None = None) -> dict[str, str]:
    """People with their overtime in the last days of 2025 (inside every scan's 28 days)."""
    people = people or {"heavy": (70.0, True), "light": (10.0, True), "gone": (90.0, False),
                        "heavy2": (61.0, True)}
    ids = {name: f"{tag}-{name}" for name in people}
    with factory.begin() as s:
        for name, (hours, active, *first) in people.items():
            state = attendance_state(hours, first[0] if first else date(2025, 12, 29))
            s.add(Employee(id=ids[name], name=name, active=active, groups=[]))
            s.add(Profile(employee_id=ids[name],
                          facts={**profile_defaults(), "employee_id": ids[name]}, state=state))
    return ids


def env_at(fire_time: datetime, heartbeat_details=()) -> tuple[ActivityEnvironment, list]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, scheduled_time=fire_time,
                                   heartbeat_details=list(heartbeat_details))
    beats: list = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_scan_fires_each_matching_active_employee_once(plan, factory, temporal, settings):
    ids = seed(factory, f"S{uuid.uuid4().hex[:6]}")
    scan = ScanActivities(factory, temporal, settings.task_queue, page_size=1)
    env, beats = env_at(FIRE_TIME)
    result = await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest=plan.digest))
    assert (result["employees"], result["fired"], result["already_fired"]) == (3, 2, 0)
    assert [b[0] for b in beats] == sorted([ids["heavy"], ids["heavy2"], ids["light"]])

    with factory() as s:
        rows = s.scalars(select(Firing).order_by(Firing.employee_id)).all()
    assert [(r.employee_id, r.dedupe_key, r.status) for r in rows] == [
        (ids["heavy"], f"{ids['heavy']}/2026-W02", "started"),
        (ids["heavy2"], f"{ids['heavy2']}/2026-W02", "started"),
    ]
    # The fire time as the schedule's zone sees it (09:00 in Shanghai).
    assert rows[0].context["context"]["schedule"] == {"fire_time": "2026-01-05T09:00:00+08:00"}
    assert rows[0].context["context"]["event"] is None
    desc = await temporal.get_workflow_handle(rows[0].workflow_id).describe()
    assert desc.workflow_type == "RuleWorkflow" and desc.status == WorkflowExecutionStatus.RUNNING

    # The same week again (a retried scan): nothing new.
    env, _ = env_at(FIRE_TIME)
    again = await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest=plan.digest))
    assert (again["fired"], again["already_fired"]) == (0, 2)


async def test_the_fire_time_is_read_in_the_schedules_zone(plan, factory, temporal, settings):
    ids = seed(factory, f"Z{uuid.uuid4().hex[:6]}")
    scan = ScanActivities(factory, temporal, settings.task_queue)
    # Monday 2026-01-12 07:00 in Shanghai is still Sunday (ISO week 2) in UTC.
    env, _ = env_at(datetime(2026, 1, 11, 23, 0, tzinfo=UTC))
    await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest=plan.digest))
    with factory() as s:
        keys = s.scalars(select(Firing.dedupe_key).where(Firing.employee_id == ids["heavy"])).all()
    assert keys == [f"{ids['heavy']}/2026-W03"]


async def test_the_scan_reads_each_profile_as_of_its_fire_time(plan, factory, temporal,
                                                                settings):
    """A busy month that ended five weeks before the scan is not this month's load, even
    though it is the employee's latest news (the stored row dates from their last event)."""
    ids = seed(factory, f"A{uuid.uuid4().hex[:6]}",
               {"recent": (80.0, True), "long_ago": (80.0, True, date(2025, 11, 24))})
    scan = ScanActivities(factory, temporal, settings.task_queue)
    env, _ = env_at(FIRE_TIME)
    result = await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest=plan.digest))
    assert (result["employees"], result["fired"]) == (2, 1)
    with factory() as s:
        row = s.scalars(select(Firing)).one()
    assert row.employee_id == ids["recent"]
    profile = row.context["context"]["profile"]
    assert profile["overtime_hours_28d"] == 80.0
    assert profile["as_of"] == FIRE_TIME.isoformat()


async def test_a_retried_scan_resumes_after_the_last_page_it_reported(plan, factory, temporal,
                                                                     settings):
    ids = seed(factory, f"R{uuid.uuid4().hex[:6]}")
    scan = ScanActivities(factory, temporal, settings.task_queue, page_size=1)
    env, _ = env_at(FIRE_TIME, heartbeat_details=[ids["heavy2"], {"employees": 2}])
    result = await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest=plan.digest))
    assert result["employees"] == 3  # 2 before the retry + "light" after it
    with factory() as s:
        assert s.scalars(select(Firing.employee_id)).all() == []  # heavy/heavy2 were done before


async def test_an_unknown_rule_version_fails_without_retrying(plan, factory, temporal, settings):
    from temporalio.exceptions import ApplicationError

    scan = ScanActivities(factory, temporal, settings.task_queue)
    env, _ = env_at(FIRE_TIME)
    with pytest.raises(ApplicationError) as err:
        await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest="0" * 64))
    assert err.value.non_retryable
