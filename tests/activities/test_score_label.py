"""A retried SCORE step answers the label the scorer gave the first time, as it was stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from wendu.activities.outcomes import ScoreActivities
from wendu.scorers.registry import ScorerRegistry
from wendu.scorers.text_models import IntentScorer
from wendu.store.models import ScoreRecord
from wendu.workflows.io import ScoreInput


class Thresholded:
    """A scorer whose label depends on a threshold HR can change between attempts."""

    name = "risk"
    model_version = "v1"

    def __init__(self) -> None:
        self.high_from = 0.5

    def label(self, value: float) -> str:
        return "high" if value >= self.high_from else "low"

    def score(self, context):
        value = 0.6
        return {"value": value, "label": self.label(value), "factors": [],
                "model_version": self.model_version}


async def test_a_retry_returns_the_stored_label_not_one_recomputed(store):
    scorer = Thresholded()
    activity = ScoreActivities(store, ScorerRegistry([scorer]))
    inp = ScoreInput(workflow_id="rule/r/E1", step_id="steps[0]", scorer="risk",
                     employee_id="E1", context={"profile": {}})
    first = await ActivityEnvironment().run(activity.score, inp)
    scorer.high_from = 0.9  # thresholds raised before the retry
    again = await ActivityEnvironment().run(activity.score, inp)
    assert first.label == again.label == "high"
    with store() as session:
        assert session.scalars(select(ScoreRecord.label)).all() == ["high"]


async def test_an_intent_keeps_its_class_label_on_retry(store, tmp_path: Path):
    # An intent's label is the class it chose; its confidence alone cannot name it again.
    registry = ScorerRegistry([IntentScorer(tmp_path)])
    activity = ScoreActivities(store, registry)
    inp = ScoreInput(workflow_id="rule/hr-chat/m1", step_id="s1", scorer="intent",
                     employee_id="E1",
                     context={"event": {"type": "chat.message", "text": "想问下公积金怎么取出来"},
                              "profile": {}})
    first = await ActivityEnvironment().run(activity.score, inp)
    again = await ActivityEnvironment().run(activity.score, inp)
    assert first.label == "housing_fund_withdrawal"
    assert again.label == first.label and again.factors == first.factors


async def test_rows_stored_before_labels_were_kept_fall_back_to_the_scorer(store):
    scorer = Thresholded()
    with store() as session:
        session.add(ScoreRecord(workflow_id="rule/r/E2", step_id="steps[0]", employee_id="E2",
                                scorer="risk", model_version="v1", value=0.7, factors=[]))
        session.commit()
    inp = ScoreInput(workflow_id="rule/r/E2", step_id="steps[0]", scorer="risk",
                     employee_id="E2", context={"profile": {}})
    result = await ActivityEnvironment().run(ScoreActivities(store, ScorerRegistry([scorer])).score,
                                             inp)
    assert (result.value, result.label) == (0.7, "high")
