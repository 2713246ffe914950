"""Attrition batch scoring for 100,000 employees, beside the bare sklearn predict_proba.

The scorer path reads feature columns (or one record per employee), imputes missing facts with
training medians and returns {value, label, model_version} per employee. The baseline is the
calibrated sklearn estimator's predict_proba on the already-built matrix: the floor for this
model, without reading or imputing anything.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from wendu.scorers import attrition
from wendu.scorers.features import company_columns
from wendu.scorers.synth import generate
from wendu.scorers.trainers import TrainOptions


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=100_000)
    args = parser.parse_args()
    n = args.employees
    with tempfile.TemporaryDirectory() as tmp:
        art = attrition.train(TrainOptions(Path(tmp)))
    scorer = attrition.TabularScorer(art)
    start = time.perf_counter()
    company = generate(n, 26, seed=2024)
    columns = company_columns(company)
    print(f"generated {n:,} employees x 26 weeks in {time.perf_counter() - start:.2f} s")
    features = art.model.encoder.features
    records = [{f: float(columns[f][i]) for f in features} for i in range(n)]
    X, _ = art.model.encoder.matrix(columns, n)

    rows = [
        ("score_many(feature columns)", timed(lambda: scorer.score_many(columns))),
        ("score_many(list of records)", timed(lambda: scorer.score_many(records), 1)),
        ("baseline: predict_proba(matrix)", timed(lambda: art.model.estimator.predict_proba(X))),
    ]
    print(f"attrition batch scoring, {n:,} employees (best of runs):")
    for name, seconds in rows:
        print(f"  {name:<34}{seconds:8.3f} s  {n / seconds:>12,.0f} employees/s")


if __name__ == "__main__":
    main()
