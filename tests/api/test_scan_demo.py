"""The weekly attrition scan over the demo company reads each profile as of the scan.

The reproduction: every demo employee's latest event was their hire, years ago; the scan read
the facts stored then and told 李娜's manager that her tenure of 0 days raised her risk.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from wendu.activities.outcomes import ScoreActivities
from wendu.activities.scan import ScanActivities
from wendu.demo.company import COMPANY, load_company
from wendu.rules.ruleset import load_ruleset
from wendu.rulestore import sync_rules
from wendu.scorers import attrition
from wendu.scorers.registry import ScorerRegistry
from wendu.scorers.trainers import TrainOptions
from wendu.store.models import Firing
from wendu.workflows.io import ScanInput, ScoreInput

on_loop = pytest.mark.asyncio(loop_scope="session")
LIBRARY = Path(__file__).resolve().parents[2] / "rules" / "library"
FIRE_TIME = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
LI_NA = next(p for p in COMPANY if p.name == "李娜")


@pytest.fixture(scope="module")
def scorers(tmp_path_factory) -> ScorerRegistry:
    """The registry `wendu demo` gives the worker: a trained attrition model."""
    home = tmp_path_factory.mktemp("home")
    attrition.train(TrainOptions(home))
    return ScorerRegistry.default(home)


@on_loop
async def test_the_demo_scan_reads_real_tenure_and_explains_it(factory, temporal, settings,
                                                               scorers):
    load_company(factory)
    loaded = load_ruleset([LIBRARY / "attrition_scan.yaml"])
    assert loaded.ok, loaded.problems
    plan = loaded.plans[0]
    with factory.begin() as s:
        sync_rules(s, loaded.plans, loaded.sources, loaded.files)

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, scheduled_time=FIRE_TIME, heartbeat_details=[])
    scan = ScanActivities(factory, temporal, settings.task_queue)
    result = await env.run(scan.scan_schedule, ScanInput(rule_id=plan.rule_id, digest=plan.digest))
    assert result["employees"] == len(COMPANY) and not result["errors"]

    with factory() as s:
        firing = s.scalars(select(Firing).where(Firing.employee_id == LI_NA.id)).one()
    context = firing.context["context"]
    tenure = (date(2026, 11, 30) - LI_NA.hired_on).days  # over nine years
    assert context["profile"]["tenure_days"] == tenure

    score = await ActivityEnvironment().run(
        ScoreActivities(factory, scorers).score,
        ScoreInput(workflow_id=firing.workflow_id, step_id="s1", scorer="attrition",
                   employee_id=LI_NA.id, context=context))
    factors = {f["name"]: f for f in score.factors}
    assert factors["tenure_days"]["value"] == tenure
    assert factors["tenure_days"]["direction"] == "decreases"  # long service holds people
    assert not factors["tenure_days"]["imputed"]


def test_a_profile_read_later_is_as_of_that_reading(factory):
    """The console's profile page and `wendu score` read the facts of now, not of the hire."""
    from wendu.activities.score_inputs import profile_now

    load_company(factory)
    with factory() as session:
        facts = profile_now(session, LI_NA.id)
    assert facts["tenure_days"] == (datetime.now(UTC).astimezone(SHANGHAI).date()
                                    - LI_NA.hired_on).days
