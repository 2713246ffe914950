"""`wendu models ...` and `wendu demo generate` as a user runs them (CliRunner, tmp data dir)."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wendu.cli.main import app

_spec = importlib.util.spec_from_file_location("ibm_csv", Path(__file__).with_name("ibm_csv.py"))
_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helper)

runner = CliRunner()


def wendu(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("home")
    result = wendu("models", "train", "attrition", "--data-dir", root)
    assert result.exit_code == 0, result.output
    assert "5-fold cross-validation" in result.output and "100% saved" in result.output
    return root


def test_list_and_card(home):
    listed = wendu("models", "list", "--data-dir", home)
    assert listed.exit_code == 0
    header, *lines = listed.output.splitlines()
    assert header.split()[:3] == ["MODEL", "VERSION", "METRICS,"]
    line = next(x for x in lines if "attrition" in x)
    assert line.startswith("*") and "held_out roc_auc" in line
    # The text scorers too, with what they run on: no trained artifact here.
    sentiment = next(x for x in lines if x.split("\t")[0] == "* sentiment")
    assert "built-in" in sentiment and "wendu models train sentiment" in sentiment
    assert {x.split("\t")[0][2:] for x in lines} >= {"intent", "topics", "burnout", "scorecard"}
    shown = wendu("models", "card", "attrition", "--data-dir", home)
    card = json.loads(shown.output)
    assert card["name"] == "attrition" and card["version"] in line
    assert {"cv_5fold", "held_out"} <= set(card["metrics"]) and "fairness" in card


def test_card_of_a_text_scorer_is_the_model_profiles_are_scored_with(tmp_path):
    from wendu.scorers.registry import ScorerRegistry

    shown = wendu("models", "card", "sentiment", "--data-dir", tmp_path)
    assert shown.exit_code == 0, shown.output
    card = json.loads(shown.output)
    in_use = ScorerRegistry.default(tmp_path).get("sentiment").model_version
    assert card["version"] == in_use and in_use.startswith("builtin-")
    assert "wendu models train sentiment" in card["note"]


def test_course_recommendation_trains_before_wendu_ever_ran_there(tmp_path):
    result = wendu("models", "train", "course_recommendation", "--data-dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert "no Wendu database yet" in result.output
    card = json.loads(wendu("models", "card", "course_recommendation", "--data-dir",
                            tmp_path).output)
    assert card["metrics"]["completions"] == 0 and card["metrics"]["courses_in_catalog"] > 0


def test_evaluate_on_people_the_model_has_not_seen(home):
    result = wendu("models", "evaluate", "attrition", "--data-dir", home, "--seed", 5)
    assert result.exit_code == 0, result.output
    assert "generated company (seed 5)" in result.output
    auc = float(next(x for x in result.output.splitlines() if "roc_auc" in x).split()[-1])
    assert auc > 0.75


def test_fairness_report_by_gender_age_band_and_department(home):
    result = wendu("models", "fairness", "attrition", "--data-dir", home)
    assert result.exit_code == 0, result.output
    for part in ("gender:", "age_band:", "department:", "flag rate", "TPR", "4/5"):
        assert part in result.output
    # Measured where the weekly scan acts, not at the card's default.
    assert "flagged at risk >= 0.6 (rule attrition-scan-weekly's threshold)" in result.output
    lower = wendu("models", "fairness", "attrition", "--threshold", "0.35", "--data-dir", home)
    assert "flagged at risk >= 0.35 (--threshold)" in lower.output
    bad = wendu("models", "fairness", "attrition", "--threshold", "2", "--data-dir", home)
    assert bad.exit_code == 2 and "--threshold" in bad.output


def test_train_on_ibm_csv_then_fairness_on_that_file(tmp_path):
    data = _helper.write_ibm_csv(tmp_path / "hr.csv")
    result = wendu("models", "train", "attrition", "--data", data, "--data-dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert "note: ignored columns not in the IBM layout: BadgeColor" in result.output
    assert "cv_5fold roc_auc" in result.output
    fair = wendu("models", "fairness", "attrition", "--data", data, "--data-dir", tmp_path)
    assert fair.exit_code == 0, fair.output
    assert "Female" in fair.output and "Research & Development" in fair.output
    # A model trained on a CSV needs that layout to be evaluated.
    refused = wendu("models", "evaluate", "attrition", "--data-dir", tmp_path)
    assert refused.exit_code == 1 and "pass --data FILE" in refused.output


def test_mistakes_are_one_clear_line(tmp_path):
    unknown = wendu("models", "train", "churn", "--data-dir", tmp_path)
    assert unknown.exit_code == 1 and "unknown model 'churn'" in unknown.output
    missing = wendu("models", "train", "attrition", "--data", tmp_path / "nope.csv",
                    "--data-dir", tmp_path)
    assert missing.exit_code != 0 and "nope.csv" in missing.output
    untrained = wendu("models", "card", "burnout", "--data-dir", tmp_path)
    assert untrained.exit_code == 1 and "wendu models train burnout" in untrained.output
    bad = tmp_path / "bad.csv"
    bad.write_text("Age,OverTime\n30,Yes\n", "utf-8")
    refused = wendu("models", "train", "attrition", "--data", bad, "--data-dir", tmp_path)
    assert refused.exit_code == 1 and "no 'Attrition' column" in refused.output
    assert "Traceback" not in refused.output


def test_demo_generate_writes_the_company(tmp_path):
    out = tmp_path / "co"
    result = wendu("demo", "generate", "--employees", 40, "--weeks", 12, "--seed", 2,
                   "--out", out)
    assert result.exit_code == 0, result.output
    with (out / "employees.csv").open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 40
    again = tmp_path / "again"
    wendu("demo", "generate", "--employees", 40, "--weeks", 12, "--seed", 2, "--out", again)
    assert (out / "attendance.csv").read_bytes() == (again / "attendance.csv").read_bytes()
    # The IBM-layout export of the same company trains the attrition model as a user's CSV.
    home = tmp_path / "home"
    big = tmp_path / "big"
    wendu("demo", "generate", "--employees", 1500, "--seed", 4, "--out", big)
    trained = wendu("models", "train", "attrition", "--data", big / "attrition_ibm.csv",
                    "--data-dir", home)
    assert trained.exit_code == 0, trained.output
    assert "dropped identifier/constant columns: EmployeeCount, StandardHours, EmployeeNumber" \
        in trained.output
    too_short = wendu("demo", "generate", "--weeks", 3, "--out", out)
    assert too_short.exit_code != 0 and "weeks" in too_short.output


def test_the_worker_scores_with_the_model_trained_into_its_data_dir(home):
    from wendu.scorers import artifacts
    from wendu.settings import Settings
    from wendu.worker import build_activities

    activities = build_activities(Settings(data_dir=home), session_factory=None)
    score = next(a for a in activities if getattr(a, "__name__", "") == "score")
    registry = score.__self__.scorers
    assert registry.get("attrition").model_version == artifacts.active_version(home, "attrition")
    assert registry.get("burnout").model_version == "baseline-1"  # not trained here
