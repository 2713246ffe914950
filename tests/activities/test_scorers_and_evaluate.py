from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from wendu.activities.evaluate import Evaluator
from wendu.activities.render import TemplateProblem, TemplateRenderer
from wendu.scorers.baseline import label_for
from wendu.scorers.registry import ScorerRegistry
from wendu.workflows.io import EvaluateInput

STRAINED = {
    "overtime_hours_7d": 26.0,
    "overtime_hours_28d": 95.0,
    "late_departures_7d": 5,
    "weekend_days_7d": 2,
    "satisfaction_last": 2.0,
    "satisfaction_trend": -0.6,
    "satisfaction_drop": 1.4,
    "tenure_days": 240,
    "performance_overall": 3.5,
    "training_completed_90d": 0,
}
SETTLED = {
    "overtime_hours_7d": 2.0,
    "overtime_hours_28d": 6.0,
    "satisfaction_last": 4.5,
    "satisfaction_trend": 0.2,
    "satisfaction_drop": 0.0,
    "tenure_days": 1500,
    "performance_overall": 4.0,
    "training_completed_90d": 2,
}


@pytest.mark.parametrize("name", ["attrition", "burnout"])
def test_baseline_scores_are_bounded_ordered_and_explained(name):
    registry = ScorerRegistry.default()
    strained = registry.score(name, {"profile": STRAINED})
    settled = registry.score(name, {"profile": SETTLED})
    assert 0 <= settled["value"] < strained["value"] <= 1
    assert (settled["label"], strained["label"]) == ("low", "high")
    assert strained["model_version"] == "baseline-1"
    contributions = [abs(f["contribution"]) for f in strained["factors"]]
    assert contributions == sorted(contributions, reverse=True) and len(contributions) <= 5
    assert all(f["direction"] == "increases" for f in strained["factors"])
    assert {"name", "value", "contribution", "direction"} <= set(strained["factors"][0])


def test_missing_facts_add_nothing():
    registry = ScorerRegistry.default()
    empty = registry.score("burnout", {"profile": {"satisfaction_last": None}})
    assert empty["factors"] == [] and empty["label"] == "low"


def test_registry_names_replacement_and_unknown():
    class Trained:
        name = "burnout"
        model_version = "gbm-2026-11"

        def score(self, context):
            return {
                "value": 0.5,
                "label": "medium",
                "factors": [],
                "model_version": self.model_version,
            }

        def label(self, value):
            return label_for(value)

    registry = ScorerRegistry.default()
    registry.register(Trained())
    assert registry.names() == ["attrition", "burnout", "course_recommendation", "intent",
                                "scorecard", "sentiment", "topics", "training_progress"]
    assert registry.score("burnout", {})["model_version"] == "gbm-2026-11"
    with pytest.raises(ApplicationError) as raised:
        registry.score("flight_risk", {})
    assert raised.value.non_retryable and "attrition, burnout" in str(raised.value)


async def test_evaluate_in_order_with_bound_names_visible():
    ctx = {
        "event": None,
        "employee": {"name": "李雷"},
        "profile": {"overtime_hours_7d": 24.5},
        "rule": {"id": "r"},
        "vars": {"risk": {"value": 0.8}},
    }
    result = await ActivityEnvironment().run(
        Evaluator().evaluate,
        EvaluateInput(
            context=ctx,
            expressions={
                "hours": "profile.overtime_hours_7d",
                "double": "hours * 2",
                "hot": "risk.value > 0.5",
            },
            texts={"title": "Check in with {{ employee.name }} ({{ double }} h)"},
        ),
    )
    assert result.values == {"hours": 24.5, "double": 49.0, "hot": True}
    assert result.texts == {"title": "Check in with 李雷 (49.0 h)"}


async def test_evaluate_error_is_not_retryable():
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            Evaluator().evaluate,
            EvaluateInput(context={"vars": {}}, expressions={"x": "nope.field"}),
        )
    assert raised.value.non_retryable and raised.value.type == "ExpressionError"


def test_render_missing_template_names_the_files(sc):
    renderer = TemplateRenderer(sc.TEMPLATES_DIR)
    with pytest.raises(TemplateProblem) as raised:
        renderer.render("no_such", "en", {})
    assert "no_such/en.j2" in str(raised.value) and "no_such/zh-CN.j2" in str(raised.value)
