"""scorecard and training_progress: transparent formulas whose parameters live in the rule.

`scorecard` is a weighted performance score whose weights depend on the employee's stage
(a new hire is judged more on training and customer feedback, a senior more on new-product
share and teamwork). HR sets the weights in the rule's YAML (`with: {weights: ..., stage: ...}`),
so changing them is a reviewed rule change, not a model release; the breakdown is the factors.
"""

from __future__ import annotations

from typing import Any

# The metric fed by training rather than by a review dimension.
TRAINING = "training_completion"
DEFAULT_TRAINING_TARGET = 3.0


def _args(context: dict[str, Any]) -> dict[str, Any]:
    args = context.get("args") or {}
    if not isinstance(args, dict):
        raise ValueError("the scorer's 'with' arguments must be a mapping")
    return args


def _training(profile: dict[str, Any], target: float) -> tuple[float, float]:
    done = float(profile.get("training_completed_90d") or 0)
    return min(done / target, 1.0) if target > 0 else 1.0, done


class ScorecardScorer:
    name = "scorecard"
    model_version = "formula-1"

    def label(self, value: float) -> str:
        return "excellent" if value >= 0.8 else "good" if value >= 0.6 else "developing"

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        args = _args(context)
        weights_by_stage, stage = args.get("weights"), args.get("stage")
        if not isinstance(weights_by_stage, dict) or not weights_by_stage:
            raise ValueError("scorecard needs with: weights: {<stage>: {<metric>: <weight>}}")
        if stage not in weights_by_stage:
            raise ValueError(f"scorecard: stage {stage!r} has no weights; stages with weights: "
                             f"{', '.join(sorted(map(str, weights_by_stage)))}")
        weights = weights_by_stage[stage]
        if not isinstance(weights, dict) or not weights:
            raise ValueError(f"scorecard: the weights of stage {stage!r} must map metrics to "
                             "numbers")
        profile = context.get("profile") or {}
        review = profile.get("performance_last") or {}
        target = float(args.get("training_target") or DEFAULT_TRAINING_TARGET)
        measured: dict[str, tuple[float, Any]] = {}
        for metric in weights:
            if metric == TRAINING:
                measured[metric] = _training(profile, target)
            elif isinstance(review.get(metric), int | float):
                raw = float(review[metric])
                measured[metric] = (min(max((raw - 1.0) / 4.0, 0.0), 1.0), raw)
        present = sum(float(w) for m, w in weights.items() if m in measured)
        factors = []
        total = 0.0
        for metric, weight in weights.items():
            share = float(weight) / present if present and metric in measured else 0.0
            value, raw = measured.get(metric, (None, None))
            contribution = round(share * value, 4) if value is not None else 0.0
            total += contribution
            factors.append({"name": metric, "value": None if value is None else round(value, 4),
                            "raw": raw, "weight": round(share, 4), "contribution": contribution,
                            "direction": "increases", "missing": value is None})
        factors.sort(key=lambda f: (-f["contribution"], f["name"]))
        value = round(min(max(total, 0.0), 1.0), 4)
        return {"value": value, "label": self.label(value), "factors": factors,
                "model_version": self.model_version, "stage": stage}


class TrainingProgressScorer:
    """Courses completed against a target (`with: {target: 3}`), from the profile of now."""

    name = "training_progress"
    model_version = "formula-1"
    # Check-ins run weeks after the firing: the SCORE activity gives the stored profile.
    reads_latest_profile = True

    def label(self, value: float) -> str:
        return "on_track" if value >= 1.0 else "started" if value > 0 else "not_started"

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        args = _args(context)
        target = float(args.get("target") or DEFAULT_TRAINING_TARGET)
        profile = context.get("profile") or {}
        total = int(profile.get("training_completed_total") or 0)
        value = round(min(total / target, 1.0), 4) if target > 0 else 1.0
        factors = [
            {"name": "training_completed_total", "value": total, "contribution": value,
             "direction": "increases", "target": target},
            {"name": "training_completed_90d",
             "value": int(profile.get("training_completed_90d") or 0), "contribution": 0.0,
             "direction": "increases"},
        ]
        return {"value": value, "label": self.label(value), "factors": factors,
                "model_version": self.model_version}


FORMULA_SCORERS = (ScorecardScorer(), TrainingProgressScorer())
