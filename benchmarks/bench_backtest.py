"""Backtesting 90 days of a 1,000-person company: the overtime rule's live and draft versions,
then every event rule of the library at once.

The history is the synthetic company's (`wendu demo generate`): a closed attendance day per
working day, leave, surveys, reviews, courses, feedback and chat lines, about 100,000 events.
It is replayed from memory (already validated), as `wendu rules backtest --events` does after
reading its file; the figure includes the profile fold, fast scores, the match and the walk of
each firing's steps. The baseline is the fold alone (records and profiles, no rule), which is
the least a replay with profiles as they were at each moment can cost. Target: < 30 s.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from wendu.backtest import backtest
from wendu.decide import FastScorers
from wendu.demo.history import company_events
from wendu.event_models import parse_event_list
from wendu.ingest import _normalize
from wendu.rules.plan import EventTrigger
from wendu.rules.ruleset import load_ruleset
from wendu.scorers.synth import generate

LIBRARY = Path(__file__).resolve().parents[1] / "rules" / "library"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=13)
    args = parser.parse_args()

    t0 = time.perf_counter()
    raw = list(company_events(generate(args.employees, args.weeks, seed=7)))
    t1 = time.perf_counter()
    events = [_normalize(e) for e in parse_event_list(raw)]
    t2 = time.perf_counter()
    print(f"history: {len(events):,} events, {args.employees:,} employees, {args.weeks} weeks "
          f"(generated in {t1 - t0:.1f} s, validated in {t2 - t1:.1f} s)")

    plans = [p for p in load_ruleset([LIBRARY]).plans if isinstance(p.trigger, EventTrigger)]
    overtime = next(p for p in plans if p.rule_id == "overtime-care-week")
    draft = overtime.model_copy(update={"version": overtime.version + 1})
    scorers = FastScorers.default()
    scorers.batch("intent", [{"event": {"text": "warm up"}}])  # train or load the model first

    start = time.perf_counter()
    # A window that starts after the last event: every event folds, none is matched.
    backtest(events, [("live", overtime)], since=datetime.max.replace(tzinfo=UTC))
    fold = time.perf_counter() - start

    for name, versions in (("overtime rule, live + draft", [("live", overtime),
                                                            ("draft", draft)]),
                           (f"all {len(plans)} event rules of the library",
                            [("live", p) for p in plans])):
        start = time.perf_counter()
        report = backtest(events, versions, scorers=scorers)
        took = time.perf_counter() - start
        fired = sum(len(t.fired) for t in report.tallies)
        print(f"{name}: {took:.1f} s ({len(events) / took:,.0f} events/s), {fired:,} firings"
              f" | fold alone {fold:.1f} s | target < 30 s: {'met' if took < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
