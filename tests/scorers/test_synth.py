"""The synthetic company: same seed, same company; and its documented causes are in the data."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from wendu.scorers import synth
from wendu.scorers.features import company_columns


@pytest.fixture(scope="module")
def company() -> synth.Company:
    return synth.generate(4000, 26, seed=11)


def test_same_seed_same_company_other_seed_other_company():
    a, b, c = synth.generate(300, 12, 5), synth.generate(300, 12, 5), synth.generate(300, 12, 6)
    assert np.array_equal(a.overtime, b.overtime)
    assert np.array_equal(a.left, b.left) and np.array_equal(a.satisfaction, b.satisfaction)
    assert list(a.employees["manager_id"]) == list(b.employees["manager_id"])
    assert not np.array_equal(a.overtime, c.overtime)


def test_org_tree_every_manager_is_an_employee_with_a_higher_level(company):
    ids = {str(i): k for k, i in enumerate(company.ids)}
    level = company.employees["level"]
    managers = [m for m in company.employees["manager_id"] if m]
    assert managers and all(m in ids for m in managers)
    heads = [k for k, m in enumerate(company.employees["manager_id"]) if not m]
    assert len(heads) == len(synth.DEPARTMENTS)  # one head per department, nobody above
    for m in company.employees["manager_id"]:
        if m:
            assert level[ids[m]] >= 4


def test_leavers_show_the_documented_drivers(company):
    cols = company_columns(company)
    left = company.left
    assert 0.1 < left.mean() < 0.35
    assert cols["overtime_hours_28d"][left].mean() > 1.3 * cols["overtime_hours_28d"][~left].mean()
    assert cols["satisfaction_last"][left].mean() < cols["satisfaction_last"][~left].mean() - 0.2
    assert cols["pay_ratio"][left].mean() < cols["pay_ratio"][~left].mean()
    assert cols["manager_changes_1y"][left].mean() > cols["manager_changes_1y"][~left].mean()
    assert cols["tenure_days"][left].mean() < cols["tenure_days"][~left].mean()
    # Gender is not a cause: leave rates by gender stay close.
    gender = cols["gender"]
    assert abs(left[gender == "F"].mean() - left[gender == "M"].mean()) < 0.05


def test_burnout_follows_load_against_own_baseline_and_leave_not_taken(company):
    cols = company_columns(company)
    burnt = company.burnout
    assert 0.05 < burnt.mean() < 0.3
    def mean(name: str, mask: np.ndarray) -> float:
        return float(cols[name][mask].mean())

    assert mean("overtime_vs_own_baseline", burnt) > mean("overtime_vs_own_baseline", ~burnt) + 2
    assert mean("overtime_streak_weeks", burnt) > mean("overtime_streak_weeks", ~burnt)
    assert mean("leave_days_90d", burnt) < mean("leave_days_90d", ~burnt)


def test_write_emits_tables_and_only_labels_for_feedback(tmp_path):
    company = synth.generate(50, 10, 3)
    written = synth.write(company, tmp_path)
    assert written["attendance.csv"] == 50 * 10
    with (tmp_path / "feedback.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and set(rows[0]) == {"feedback_id", "employee_id", "week", "sentiment", "topic"}
    assert {r["sentiment"] for r in rows} <= {"negative", "neutral", "positive"}
    with (tmp_path / "employees.csv").open(encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))
    assert len(people) == 50 and people[0]["employee_id"] == "S000001"
    assert {"gender", "birth_year", "pay_band", "commute_km", "manager_id"} <= set(people[0])


def test_too_few_weeks_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="weeks"):
        synth.generate(10, 4, 1)
