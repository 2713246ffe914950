"""The burnout scorer: load against own and team baseline, weekend work and leave not taken."""

from __future__ import annotations

import numpy as np
import pytest

from wendu.scorers import burnout
from wendu.scorers.attrition import TabularScorer
from wendu.scorers.features import company_columns
from wendu.scorers.synth import generate
from wendu.scorers.trainers import TrainOptions

LOAD = {"overtime_hours_28d", "overtime_hours_7d", "overtime_vs_own_baseline",
        "overtime_vs_team", "overtime_streak_weeks", "weekend_days_7d", "late_departures_7d"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return burnout.train(TrainOptions(tmp_path_factory.mktemp("models")))


def test_held_out_metrics_and_drivers(trained):
    assert trained.card["metrics"]["held_out"]["roc_auc"] > 0.8
    company = generate(2000, 26, seed=42)
    X, _ = trained.model.encoder.matrix(company_columns(company), len(company))
    weight = np.abs(trained.model.contributions(X)).mean(axis=0)
    top = [trained.model.encoder.features[j] for j in np.argsort(-weight)[:3]]
    assert set(top) <= LOAD, top


def test_a_crunch_scores_higher_than_a_normal_week_and_says_why(trained):
    scorer = TabularScorer(trained)
    crunch = scorer.score({"profile": {"overtime_hours_7d": 22, "overtime_hours_28d": 85,
                                       "late_departures_7d": 4, "weekend_days_7d": 2},
                           "features": {"overtime_vs_own_baseline": 15,
                                        "overtime_streak_weeks": 4, "leave_days_90d": 0}})
    calm = scorer.score({"profile": {"overtime_hours_7d": 1, "overtime_hours_28d": 5,
                                     "late_departures_7d": 0, "weekend_days_7d": 0},
                         "features": {"overtime_vs_own_baseline": 0,
                                      "overtime_streak_weeks": 0, "leave_days_90d": 3}})
    assert crunch["value"] > 0.5 > calm["value"]
    top = crunch["factors"][0]
    assert top["name"] in LOAD and top["direction"] == "increases" and not top["imputed"]
    assert crunch["imputed"] == ["overtime_vs_team"]


def test_burnout_refuses_a_user_csv(tmp_path):
    with pytest.raises(ValueError, match="--data is for attrition"):
        burnout.train(TrainOptions(tmp_path, data=tmp_path / "x.csv"))
