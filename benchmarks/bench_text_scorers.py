"""Single-text intent latency (the full scorer: vectorize, classify, explain), beside baselines.

The baseline is the bare vectorizer transform of the same text: the floor any model over
these n-gram features pays. Also shown: scoring without the phrase explanation, and bulk
throughput through `score_texts` (what `wendu score intent` uses).

    python benchmarks/bench_text_scorers.py [--runs 2000] [--data-dir DIR]

With no trained artifact in the data dir, the model is trained in-process first (untimed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from wendu.scorers import corpora
from wendu.scorers.text_models import IntentScorer

TEXTS = [
    "我想把社保转到杭州，需要什么手续？", "公积金提取", "上周六加班了，能换一天调休吗",
    "can you send me the slides for tomorrow's standup?", "where do I see my payslip",
    "下午三点的会改到四点了", "how do I get reimbursed for the hotel on my trip",
    "HR你好，我想开一份在职证明办签证用，谢谢",
]


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for i in range(runs):
        text = TEXTS[i % len(TEXTS)]
        start = time.perf_counter()
        fn(text)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    scorer = IntentScorer(args.data_dir or Path(tempfile.mkdtemp()))
    start = time.perf_counter()
    model = scorer.model()
    print(f"model {scorer.model_version} ready in {time.perf_counter() - start:.1f} s")
    for text in TEXTS[:50]:
        scorer.score_text(text)  # warm caches

    rows = [
        ("vectorizer transform only (baseline)", lambda t: model.vectorizer.transform([t])),
        ("classify, no explanation", lambda t: model.proba([t])),
        ("intent scorer (classify + phrases)", scorer.score_text),
    ]
    print(f"{'single text, ms':40} {'median':>8} {'p95':>8}")
    for label, fn in rows:
        median, p95 = timed(fn, args.runs)
        print(f"{label:40} {median:8.2f} {p95:8.2f}")

    bulk = [e.text for e in corpora.intent_examples()][:5000]
    start = time.perf_counter()
    scorer.score_texts(bulk)
    elapsed = time.perf_counter() - start
    print(f"bulk score_texts: {len(bulk)} texts in {elapsed:.2f} s "
          f"({len(bulk) / elapsed:,.0f} texts/s)")


if __name__ == "__main__":
    main()
