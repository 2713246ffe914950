"""The fairness report: flag rate and TPR per group, and the 4/5 rule."""

from __future__ import annotations

import numpy as np

from wendu.scorers import fairness


def _population():
    # 200 women flagged at 30 %, 200 men at 15 % (under-flagged), 10 "X" too few to judge.
    rng = np.random.default_rng(0)
    gender = np.array(["F"] * 200 + ["M"] * 200 + ["X"] * 10)
    flagged = np.zeros(410, bool)
    flagged[:60] = True
    flagged[200:230] = True
    y = rng.random(410) < 0.2
    y[:30] = True  # half the flagged women left
    return y, flagged, gender


def test_under_flagged_group_is_flagged_by_the_four_fifths_rule():
    y, flagged, gender = _population()
    rep = fairness.report(y, flagged, {"gender": gender})
    rows = {r["group"]: r for r in rep["groups"]["gender"]}
    assert rows["F"]["flag_rate"] == 0.3 and rows["M"]["flag_rate"] == 0.15
    assert rows["M"]["below_four_fifths"] and not rows["F"]["below_four_fifths"]
    assert rows["M"]["ratio_to_highest"] == 0.5
    assert rep["below_four_fifths"] == ["gender=M"]
    assert not rows["X"]["judged"] and not rows["X"]["below_four_fifths"]
    positives_f = y[:200]
    assert rows["F"]["tpr"] == round(float(flagged[:200][positives_f].mean()), 4)


def test_equal_rates_flag_nobody_and_report_reads_plainly():
    gender = np.array(["F", "M"] * 100)
    flagged = np.tile([True, True, False, False], 50)
    rep = fairness.report(np.zeros(200, bool), flagged, {"gender": gender})
    assert rep["below_four_fifths"] == []
    assert all(r["tpr"] is None for r in rep["groups"]["gender"])  # nobody left
    text = fairness.format_report(rep)
    assert "below 4/5 of the highest rate: none" in text


def test_text_report_marks_the_group():
    y, flagged, gender = _population()
    text = fairness.format_report(fairness.report(y, flagged, {"gender": gender}))
    assert "BELOW 4/5" in text and "gender=M" in text and "too few" in text
