"""The cost of matching one event against 1,000 rules, beside evaluating one expression.

Rules are compiled once into an index keyed by trigger; matching an event evaluates the
`when` conditions of the rules its type triggers and renders the dedupe key of each match.
The baseline is one compiled Jinja2 expression evaluated on the same context: the floor any
in-process matcher built on this expression language pays per condition.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from wendu.rules.compiler import compile_text
from wendu.rules.expressions import compile_condition
from wendu.rules.matcher import RuleIndex

FIELDS = [
    ("profile.overtime_hours_7d", 10, 40),
    ("profile.late_departures_7d", 1, 7),
    ("profile.weekend_days_7d", 1, 3),
    ("profile.overtime_hours_28d", 40, 120),
    ("profile.tenure_days", 30, 2000),
    ("event.overtime_hours", 1, 8),
]

RULE = """\
id: bench-{i}
version: 1
title: {{zh: 基准{i}, en: Bench {i}}}
trigger: {{event: attendance.day_closed}}
when:
  - {a} > {x} and {b} >= {y}
dedupe: "{{{{ employee.id }}}}/{{{{ event.day | iso_week }}}}"
steps:
  - record: {{metric: bench_{i}, value: 1}}
"""


def make_rules(n: int, seed: int = 7):
    rnd = random.Random(seed)
    plans = []
    for i in range(n):
        (a, lo_a, hi_a), (b, lo_b, hi_b) = rnd.sample(FIELDS, 2)
        src = RULE.format(i=i, a=a, x=rnd.randint(lo_a, hi_a), b=b, y=rnd.randint(lo_b, hi_b))
        plans.append(compile_text(src, f"bench-{i}.yaml"))
    return plans


def context() -> dict:
    return {
        "event": {
            "id": "e1",
            "type": "attendance.day_closed",
            "employee_id": "E1",
            "occurred_at": "2026-11-20T14:00:00+00:00",
            "day": "2026-11-20",
            "clock_in": "2026-11-20T01:00:00+00:00",
            "clock_out": "2026-11-20T14:00:00+00:00",
            "overtime_hours": 4.0,
        },
        "employee": {"id": "E1", "name": "Zhang Wei", "manager_id": "M1"},
        "profile": {
            "overtime_hours_7d": 26.0,
            "late_departures_7d": 4,
            "weekend_days_7d": 1,
            "overtime_hours_28d": 80.0,
            "tenure_days": 600,
        },
        "rule": {},
        "vars": {},
    }


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()

    t0 = time.perf_counter()
    plans = make_rules(args.rules)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = RuleIndex(plans)
    index_s = time.perf_counter() - t0
    ctx = context()
    matches = len(index.match("attendance.day_closed", ctx).matches)

    match_t = timed(lambda: index.match("attendance.day_closed", ctx), args.repeat)
    cond = compile_condition("profile.overtime_hours_7d > 20 and profile.late_departures_7d >= 3")
    one_t = timed(lambda: cond(ctx), args.repeat * 50)

    m, one = statistics.median(match_t), statistics.median(one_t)
    print(
        f"{args.rules} rules on one event type; "
        f"compile {compile_s:.1f}s, index build {index_s * 1e3:.0f} ms"
    )
    print(
        f"  match one event against {args.rules} rules: {m * 1e3:8.2f} ms median "
        f"({matches} matched, p95 {statistics.quantiles(match_t, n=20)[-1] * 1e3:.2f} ms)"
    )
    print(f"  baseline, one expression evaluated:        {one * 1e6:8.2f} us median")
    print(f"  per rule: {m / args.rules * 1e6:.2f} us = {m / args.rules / one:.1f}x one expression")


if __name__ == "__main__":
    main()
