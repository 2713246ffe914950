"""Baseline scorers: hand-set logistic formulas over the employee's profile facts.

They are deliberately simple and explainable, not placeholders that fake results: every weight
is written below, every factor in a score is the exact term it added to the logit, and an HR
partner can check a score by hand. Trained models (scorers trained offline on the project's
own data, with a model card) replace them by registering under the same name with another
`model_version`; rules and workflows do not change.

A fact the profile does not have yet (None) adds nothing: the score then rests on what is known.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODEL_VERSION = "baseline-1"
LABELS = ((0.35, "low"), (0.65, "medium"), (1.01, "high"))


def label_for(value: float) -> str:
    return next(label for bound, label in LABELS if value < bound)


@dataclass(frozen=True)
class Term:
    """One fact's part of the logit: `weight * transform(fact)`."""

    fact: str
    weight: float
    transform: Callable[[float], float] = float
    why: str = ""


def _capped(limit: float) -> Callable[[float], float]:
    return lambda x: min(float(x), limit)


@dataclass(frozen=True)
class LogisticScorer:
    name: str
    intercept: float
    terms: tuple[Term, ...]
    model_version: str = MODEL_VERSION
    top_factors: int = 5
    # A formula over the profile alone: cheap and pure, so ingest may score with it.
    fast = True

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        profile = context.get("profile") or {}
        logit = self.intercept
        factors = []
        for term in self.terms:
            raw = profile.get(term.fact)
            if raw is None or isinstance(raw, bool | dict | list | str):
                continue
            contribution = term.weight * term.transform(raw)
            logit += contribution
            if contribution:
                factors.append(
                    {
                        "name": term.fact,
                        "value": raw,
                        "contribution": round(contribution, 4),
                        "direction": "increases" if contribution > 0 else "decreases",
                    }
                )
        value = 1.0 / (1.0 + math.exp(-logit))
        factors.sort(key=lambda f: abs(f["contribution"]), reverse=True)
        return {
            "value": round(value, 4),
            "label": label_for(value),
            "factors": factors[: self.top_factors],
            "model_version": self.model_version,
        }

    def label(self, value: float) -> str:
        return label_for(value)


# Sustained load is what burns people out: a week of heavy overtime counts most, a month of it
# adds to that, and late nights and lost weekends weigh on top. A falling satisfaction score
# is the earliest sign that the load is felt. With no load at all the score is about 0.03.
BURNOUT = LogisticScorer(
    name="burnout",
    intercept=-3.5,
    terms=(
        Term("overtime_hours_7d", 0.12, _capped(40)),  # 20 h in a week: +2.4
        Term("overtime_hours_28d", 0.02, _capped(160)),  # 80 h in a month: +1.6
        Term("late_departures_7d", 0.3, _capped(7)),
        Term("weekend_days_7d", 0.5, _capped(2)),
        Term("satisfaction_drop", 0.8, lambda x: max(float(x), 0.0)),
    ),
)

# Attrition follows (dis)satisfaction above all, its direction more than its level; the first
# two years are the riskiest; learning and good reviews hold people; a month of overtime
# beyond 20 h pushes them out. Neutral employee (satisfaction 3.5, 2 years, rating 3): ~0.18.
ATTRITION = LogisticScorer(
    name="attrition",
    intercept=-1.5,
    terms=(
        Term("satisfaction_last", -0.9, lambda x: float(x) - 3.5),
        Term("satisfaction_trend", -1.2),
        Term("satisfaction_drop", 0.7, lambda x: max(float(x), 0.0)),
        Term("tenure_days", -0.25, lambda d: min(float(d) / 365.0, 6.0) - 2.0),
        Term("performance_overall", -0.4, lambda x: float(x) - 3.0),
        Term("overtime_hours_28d", 0.02, lambda h: max(min(float(h), 160.0) - 20.0, 0.0)),
        Term("training_completed_90d", -0.3, _capped(3)),
    ),
)

BASELINE_SCORERS = (ATTRITION, BURNOUT)
