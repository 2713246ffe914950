"""The scorers' two figures: attrition batch scoring of 100,000 employees, and single-text intent
latency, each beside its baseline.

Attrition: the scorer path reads feature columns (or one record per employee), imputes missing
facts with training medians and returns {value, label, model_version} per employee. The
baseline is the calibrated sklearn estimator's predict_proba on the already-built matrix: the
floor for this model, without reading or imputing anything.

Intent: one text through the full scorer (vectorize, classify, explain), median and p95. The
baseline is the bare vectorizer transform of the same text: the floor any model over these
n-gram features pays. Also shown: scoring without the phrase explanation, and bulk throughput
through `score_texts` (what `wendu score intent` uses).

    python benchmarks/bench_scorers.py [--employees 100000] [--runs 2000] [--data-dir DIR]

Models are trained in a temporary folder first (untimed); with `--data-dir`, the intent model
there is used if it has one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wendu.scorers import attrition, corpora
from wendu.scorers.features import company_columns
from wendu.scorers.synth import generate
from wendu.scorers.text_models import IntentScorer
from wendu.scorers.trainers import TrainOptions

TEXTS = [
    "我想把社保转到杭州，需要什么手续？", "公积金提取", "上周六加班了，能换一天调休吗",
    "can you send me the slides for tomorrow's standup?", "where do I see my payslip",
    "下午三点的会改到四点了", "how do I get reimbursed for the hotel on my trip",
    "HR你好，我想开一份在职证明办签证用，谢谢",
]


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Seconds of the fastest run: batch timings vary with what else the machine does."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def latency(fn: Callable[[str], Any], runs: int) -> tuple[float, float]:
    """(median, p95) in ms of one call per text, cycling through TEXTS."""
    samples = []
    for i in range(runs):
        text = TEXTS[i % len(TEXTS)]
        start = time.perf_counter()
        fn(text)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def bench_attrition(n: int) -> None:
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
        ("score_many(feature columns)", best_of(lambda: scorer.score_many(columns))),
        ("score_many(list of records)", best_of(lambda: scorer.score_many(records), 1)),
        ("baseline: predict_proba(matrix)", best_of(lambda: art.model.estimator.predict_proba(X))),
    ]
    print(f"attrition batch scoring, {n:,} employees (best of runs):")
    for name, seconds in rows:
        print(f"  {name:<34}{seconds:8.3f} s  {n / seconds:>12,.0f} employees/s")


BATCH_TEXTS = 10_000


def bench_intent(runs: int, data_dir: Path) -> None:
    scorer = IntentScorer(data_dir)
    start = time.perf_counter()
    model = scorer.model()
    print(f"intent model {scorer.model_version} ready in {time.perf_counter() - start:.1f} s")
    for text in TEXTS:
        scorer.score_text(text)  # warm caches

    rows = [
        ("baseline: vectorizer transform only", lambda t: model.transform([t])),
        ("classify, no explanation", lambda t: model.proba([t])),
        ("intent scorer (classify + phrases)", scorer.score_text),
    ]
    print(f"intent, single text, ms {'':16} {'median':>8} {'p95':>8}")
    for label, fn in rows:
        median, p95 = latency(fn, runs)
        print(f"  {label:38} {median:8.2f} {p95:8.2f}")

    texts = [e.text for e in corpora.intent_examples()]
    batch = [texts[i % len(texts)] for i in range(BATCH_TEXTS)]
    contexts = [{"event": {"text": t}} for t in batch]
    print(f"intent, a batch of {len(batch):,} texts, per text (best of 3):")
    for label, fn in (
        ("baseline: vectorizer + predict_proba", lambda: model.proba(batch)),
        ("ingest's fast path (score_batch)", lambda: scorer.score_batch(contexts)),
        ("with phrases (score_texts)", lambda: scorer.score_texts(batch)),
    ):
        seconds = best_of(fn)
        print(f"  {label:38} {seconds / len(batch) * 1e6:8.1f} us  "
              f"{len(batch) / seconds:>10,.0f} texts/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    bench_attrition(args.employees)
    print()
    with tempfile.TemporaryDirectory() as tmp:
        bench_intent(args.runs, args.data_dir or Path(tmp))


if __name__ == "__main__":
    main()
