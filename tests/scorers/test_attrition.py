"""The attrition scorer: trained on the generated company and on an IBM-layout CSV, explained,
and picked up by the registry."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from wendu.scorers import artifacts, attrition
from wendu.scorers.features import DataError, company_columns
from wendu.scorers.registry import ScorerRegistry
from wendu.scorers.synth import generate
from wendu.scorers.trainers import TrainOptions

# Tests import with --import-mode=importlib, so the helper beside this file is loaded by path.
_spec = importlib.util.spec_from_file_location("ibm_csv", Path(__file__).with_name("ibm_csv.py"))
_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helper)
write_ibm_csv = _helper.write_ibm_csv

DRIVERS = {"overtime_hours_28d", "satisfaction_last", "satisfaction_trend", "satisfaction_drop",
           "pay_ratio", "years_since_promotion", "manager_changes_1y", "commute_km",
           "tenure_days"}
STRAINED = {"profile": {"overtime_hours_28d": 90, "satisfaction_last": 1.8,
                        "satisfaction_trend": -0.5, "tenure_days": 200}}
CONTENT = {"profile": {"overtime_hours_28d": 4, "satisfaction_last": 4.6,
                       "satisfaction_trend": 0.2, "tenure_days": 2500}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> artifacts.Artifact:
    steps: list[str] = []
    root = tmp_path_factory.mktemp("models")
    art = attrition.train(TrainOptions(root, progress=lambda step, f: steps.append(step)))
    assert steps[0].startswith("generate") and steps[-1] == "saved"
    return art


def test_held_out_auc_is_sensible_and_card_is_complete(trained):
    card = trained.card
    assert card["metrics"]["held_out"]["roc_auc"] > 0.75
    assert card["metrics"]["cv_5fold"]["roc_auc"] > 0.75
    assert 0 < card["metrics"]["cv_5fold"]["pr_auc"] < 1
    assert "gender" not in card["features"] and "age" not in card["features"]
    assert card["intended_use"] and card["limits"] and card["training_data_hash"]
    assert {"gender", "age_band", "department"} <= set(card["fairness"]["groups"])
    # Gender causes nothing in the generated company, and the model does not flag by it.
    assert not [g for g in card["fairness"]["below_four_fifths"] if g.startswith("gender=")]


def test_top_factors_on_fresh_people_are_the_documented_drivers(trained):
    company = generate(2000, 26, seed=99)
    cols = company_columns(company)
    X, _ = trained.model.encoder.matrix(cols, len(company))
    weight = np.abs(trained.model.contributions(X)).mean(axis=0)
    top = [trained.model.encoder.features[j] for j in np.argsort(-weight)[:5]]
    assert len(DRIVERS & set(top)) >= 4, top
    assert top[0] in {"overtime_hours_28d", "satisfaction_last"}


def test_score_explains_with_directions_and_names_imputed_facts(trained):
    scorer = attrition.TabularScorer(trained)
    high, low = scorer.score(STRAINED), scorer.score(CONTENT)
    assert high["value"] > 0.5 > low["value"]
    assert high["label"] in ("medium", "high") and low["label"] == "low"
    assert high["model_version"] == trained.version
    by_name = {f["name"]: f for f in high["factors"]}
    assert by_name["overtime_hours_28d"]["direction"] == "increases"
    assert by_name["overtime_hours_28d"]["value"] == 90
    assert by_name["satisfaction_last"]["direction"] == "increases"
    assert {f["name"]: f for f in low["factors"]}["satisfaction_last"]["direction"] == "decreases"
    assert "pay_ratio" in high["imputed"] and "overtime_hours_28d" not in high["imputed"]


def test_every_weight_points_the_way_its_fact_does_in_the_training_data(trained):
    """A factor's direction is its term's sign: it must agree with what the training data
    show for that fact (people whose satisfaction fell left more often, not less)."""
    company = generate(attrition.TRAIN_EMPLOYEES, attrition.TRAIN_WEEKS, seed=trained.card["seed"])
    cols = company_columns(company)
    left = company.left.astype(float)
    coef = trained.model._linear[2]
    for name, weight in zip(trained.model.encoder.sources, coef, strict=True):
        association = np.corrcoef(np.asarray(cols[name], float), left)[0, 1]
        assert weight == 0 or np.sign(weight) == np.sign(association), (name, weight)
    assert set(trained.card["unweighted"]) <= set(trained.model.encoder.features)
    assert "sign" in trained.card["explanations"]


def test_a_satisfaction_drop_is_never_named_as_lowering_the_risk(trained):
    scorer = attrition.TabularScorer(trained)
    fell = scorer.score({"profile": {"satisfaction_last": 2.0, "satisfaction_avg": 4.5,
                                     "satisfaction_drop": 2.5, "satisfaction_trend": -0.6,
                                     "tenure_days": 2500}})
    by_name = {f["name"]: f for f in fell["factors"]}
    for name in ("satisfaction_last", "satisfaction_drop", "satisfaction_trend"):
        if name in by_name:
            assert by_name[name]["direction"] == "increases", by_name[name]
    assert by_name["satisfaction_last"]["direction"] == "increases"
    assert by_name["tenure_days"]["direction"] == "decreases"  # long service holds people
    assert all(f["contribution"] for f in fell["factors"])


def test_score_many_matches_single_scores_for_records_and_columns(trained):
    scorer = attrition.TabularScorer(trained)
    rows = [STRAINED["profile"], CONTENT["profile"], {}]
    many = scorer.score_many(rows)
    assert [m["value"] for m in many] == [scorer.score({"profile": r})["value"] for r in rows]
    cols = {k: np.array([r.get(k, np.nan) for r in rows], dtype=float)
            for k in ("overtime_hours_28d", "satisfaction_last")}
    assert len(scorer.score_many(cols)) == 3


def test_registry_uses_the_trained_model_once_present(trained, tmp_path):
    registry = ScorerRegistry.default(trained.path.parent.parent.parent)
    assert registry.get("attrition").model_version == trained.version
    assert registry.score("attrition", STRAINED)["model_version"] == trained.version
    assert registry.get("burnout").model_version == "baseline-1"
    assert ScorerRegistry.default(tmp_path).get("attrition").model_version == "baseline-1"
    assert ScorerRegistry.default().get("attrition").model_version == "baseline-1"


def test_trains_on_an_ibm_layout_csv_with_extra_and_missing_columns(tmp_path):
    data = write_ibm_csv(tmp_path / "hr.csv")
    art = attrition.train(TrainOptions(tmp_path / "home", data=data))
    card = art.card
    notes = " | ".join(card["data_notes"])
    assert "BadgeColor" in notes and "WorkLifeBalance" in notes and "EmployeeCount" in notes
    assert "Gender" not in card["features"] and "EmployeeNumber" not in card["features"]
    assert "OverTime" in card["features"] and card["source"] == "csv:hr.csv"
    assert 0.7 < card["metrics"]["cv_5fold"]["roc_auc"] < 0.95
    assert 0 < card["metrics"]["cv_5fold"]["pr_auc"] < 1
    # A live profile is read in IBM columns: heavy overtime and low satisfaction score higher.
    scorer = attrition.TabularScorer(art)
    assert scorer.score(STRAINED)["value"] > scorer.score(CONTENT)["value"]
    assert any(f["name"] == "OverTime" for f in scorer.score(STRAINED)["factors"])


def test_ibm_amounts_are_logged_and_ratings_read_level_by_level():
    from wendu.scorers.features import Encoder

    columns = {"MonthlyIncome": np.array([2000.0, 5000.0, 20000.0]),
               "JobSatisfaction": np.array([1.0, 2.0, 4.0])}
    enc = Encoder.fit(columns, ["MonthlyIncome", "JobSatisfaction"], layout="ibm",
                      logged=["MonthlyIncome"], levels=["JobSatisfaction"])
    X, missing = enc.matrix({"MonthlyIncome": [np.nan, 20000.0],
                             "JobSatisfaction": [4.0, 3.0]}, 2)
    # Income: log(1 + x), a gap imputed with the (raw) median before the log.
    assert X[:, 0] == pytest.approx(np.log1p([5000.0, 20000.0]))
    assert missing[:, 0].tolist() == [True, False] and enc.medians["MonthlyIncome"] == 5000.0
    # Satisfaction: its value, then one column per level seen in training (3 was not).
    assert X[:, 1].tolist() == [4.0, 3.0]
    assert X[:, 2:].tolist() == [[0, 0, 1], [0, 0, 0]]
    # Still two features for explanations: every matrix column names its source.
    assert enc.features == ["MonthlyIncome", "JobSatisfaction"]
    assert enc.sources == ["MonthlyIncome", "JobSatisfaction", *["JobSatisfaction"] * 3]


def test_a_column_that_is_the_outcome_in_disguise_is_refused(tmp_path):
    data = write_ibm_csv(tmp_path / "leaky.csv", leak=True)
    with pytest.raises(ValueError, match="YearsWithCurrManager.*leakage"):
        attrition.train(TrainOptions(tmp_path / "home", data=data))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("Attrition,", "Left,", 1), "no 'Attrition' column"),
        (lambda t: t.replace(",No,", ",Maybe,", 1), r"line \d+: Attrition must be Yes or No"),
        (lambda t: "\n".join(t.splitlines()[:11]), "10 data rows; at least 20"),
    ],
)
def test_bad_csv_gets_a_message_naming_the_problem(tmp_path, edit, message):
    path = write_ibm_csv(tmp_path / "hr.csv", rows=60)
    path.write_text(edit(path.read_text("utf-8")), "utf-8")
    with pytest.raises(DataError, match=message):
        attrition.train(TrainOptions(tmp_path / "home", data=path))


def test_non_numeric_value_names_line_and_column(tmp_path):
    path = write_ibm_csv(tmp_path / "hr.csv", rows=60)
    lines = path.read_text("utf-8").splitlines()
    lines[5] = "forty" + lines[5][lines[5].index(","):]
    Path(path).write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(DataError, match="line 6: column Age must be a number, got 'forty'"):
        attrition.train(TrainOptions(tmp_path / "home", data=path))
