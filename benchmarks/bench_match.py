"""Reloading 1,000 rules and matching one event against them, beside one Jinja expression.

A reload is the whole path from YAML files: read, load, check and compile every rule, then
build the index keyed by trigger (what `wendu` does at start and on every rule change).
Matching an event evaluates the `when` conditions of the rules its type triggers and renders
the dedupe key of each match. The baseline is one expression evaluated by Jinja itself
(`compile_expression`) on the same context, which is how conditions used to be evaluated.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from wendu.rules.expressions import ENV, Evaluation, compile_condition, flat_context
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import load_ruleset

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


def write_rules(folder: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    for i in range(n):
        (a, lo_a, hi_a), (b, lo_b, hi_b) = rnd.sample(FIELDS, 2)
        # Fractional thresholds keep every condition's text distinct, so nothing is cached.
        x, y = rnd.randint(lo_a, hi_a) + i / 10_000, rnd.randint(lo_b, hi_b)
        src = RULE.format(i=i, a=a, x=x, b=b, y=y)
        (folder / f"bench-{i}.yaml").write_text(src, encoding="utf-8")


def reload(folder: Path) -> tuple[RuleIndex, float, float, float]:
    """The index, and the seconds spent loading and indexing, and the CPU seconds of both."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = load_ruleset([folder])
    loaded = time.perf_counter()
    if not result.ok:
        raise SystemExit("\n".join(map(str, result.errors[:5])))
    index = RuleIndex(result.plans)
    cpu = time.process_time() - cpu0
    return index, loaded - t0, time.perf_counter() - loaded, cpu


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

    with tempfile.TemporaryDirectory() as tmp:
        warm, folder = Path(tmp) / "warm", Path(tmp) / "rules"
        warm.mkdir()
        folder.mkdir()
        # One small reload first, so imports and the template catalog are not counted.
        write_rules(warm, 3, seed=1)
        reload(warm)
        write_rules(folder, args.rules)
        index, load_s, index_s, cpu_s = reload(folder)
    ctx = context()
    matches = len(index.match("attendance.day_closed", ctx).matches)

    match_t = timed(lambda: index.match("attendance.day_closed", ctx), args.repeat)
    src = "profile.overtime_hours_7d > 20 and profile.late_departures_7d >= 3"
    cond, evaluation = compile_condition(src), Evaluation(ctx)
    one_t = timed(lambda: cond.on(evaluation), args.repeat * 50)
    jinja = ENV.compile_expression(src)
    flat = flat_context(ctx)
    jinja_t = timed(lambda: jinja(**flat), args.repeat * 50)

    m, one, base = (statistics.median(t) for t in (match_t, one_t, jinja_t))
    print(f"{args.rules} rules on one event type")
    # CPU time beside wall time: on a shared machine the wall clock also counts other work.
    print(
        f"  reload from YAML files:  {load_s + index_s:8.2f} s "
        f"(read, load, compile {load_s:.2f} s; index {index_s * 1e3:.0f} ms; "
        f"CPU {cpu_s:.2f} s)"
    )
    print(
        f"  match one event against {args.rules} rules: {m * 1e3:8.2f} ms median "
        f"({matches} matched, p95 {statistics.quantiles(match_t, n=20)[-1] * 1e3:.2f} ms)"
    )
    print(f"  one condition, compiled:            {one * 1e6:8.2f} us median")
    print(f"  baseline, one expression by Jinja:  {base * 1e6:8.2f} us median")
    ratio = m / args.rules / base
    print(f"  per rule: {m / args.rules * 1e6:.2f} us = {ratio:.2f}x one Jinja expression")


if __name__ == "__main__":
    main()
