"""A score reaches the employee's profile even when the first attempt dies half-way."""

from __future__ import annotations

import pytest
from temporalio.testing import ActivityEnvironment

from wendu.activities import outcomes
from wendu.activities.outcomes import ScoreActivities
from wendu.scorers.registry import ScorerRegistry
from wendu.store.models import Profile
from wendu.workflows.io import ScoreInput


class Fixed:
    name = "risk"
    model_version = "v1"

    def label(self, value: float) -> str:
        return "high"

    def score(self, context):
        return {"value": 0.8, "label": "high", "factors": [], "model_version": "v1"}


async def test_a_retry_after_a_failed_profile_write_still_stores_the_score(store, monkeypatch):
    with store.begin() as s:
        if s.get(Profile, "E1") is None:
            s.add(Profile(employee_id="E1", facts={"employee_id": "E1"}, state={}))
    activity = ScoreActivities(store, ScorerRegistry([Fixed()]))
    inp = ScoreInput(workflow_id="rule/r/E1", step_id="steps[0]", scorer="risk",
                     employee_id="E1", context={"profile": {}})
    real = outcomes.store_score

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")  # the first attempt dies after recording

    monkeypatch.setattr(outcomes, "store_score", locked)
    with pytest.raises(RuntimeError):
        await ActivityEnvironment().run(activity.score, inp)
    monkeypatch.setattr(outcomes, "store_score", real)
    await ActivityEnvironment().run(activity.score, inp)  # Temporal's retry
    with store() as s:
        scores = s.get(Profile, "E1").facts["scores"]
    assert scores["risk"]["value"] == 0.8 and scores["risk"]["label"] == "high"
