"""The scorers a rule's `score` step can name, looked up by name at run time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from temporalio.exceptions import ApplicationError

from wendu.scorers.baseline import BASELINE_SCORERS
from wendu.scorers.scorecard import FORMULA_SCORERS

log = logging.getLogger(__name__)

# Trained scorers that replace a baseline of the same name when an artifact is active.
TRAINED_TABULAR = ("attrition", "burnout")
# (data dir, name, version) -> scorer: each model version is read from disk once per process.
_LOADED: dict[tuple[str, str, str], Scorer] = {}


class Scorer(Protocol):
    name: str
    model_version: str

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        """{"value": 0..1, "label", "factors": [{name, value, contribution, direction}],
        "model_version"} for the rule context ({"profile": {...}, ...})."""
        ...

    def label(self, value: float) -> str: ...


class ScorerRegistry:
    def __init__(self, scorers: list[Scorer] | tuple[Scorer, ...] = ()) -> None:
        self._scorers: dict[str, Scorer] = {}
        for scorer in scorers:
            self.register(scorer)

    @classmethod
    def default(cls, data_dir: Path | str | None = None) -> ScorerRegistry:
        """The baseline formulas, each replaced by its trained model if `data_dir` has one."""
        registry = cls(BASELINE_SCORERS)
        for formula in FORMULA_SCORERS:
            registry.register(formula)
        for learned in _text_and_course_scorers(data_dir):
            registry.register(learned)
        if data_dir is not None:
            for name in TRAINED_TABULAR:
                trained = _load_trained(Path(data_dir), name)
                if trained is not None:
                    registry.register(trained)
        return registry

    def register(self, scorer: Scorer) -> None:
        """Adds a scorer, or replaces the one of the same name (a trained model, say)."""
        self._scorers[scorer.name] = scorer

    def names(self) -> list[str]:
        return sorted(self._scorers)

    def get(self, name: str) -> Scorer:
        try:
            return self._scorers[name]
        except KeyError:
            raise ApplicationError(
                f"unknown scorer {name!r}; known: {', '.join(self.names()) or 'none'}",
                type="UnknownScorer",
                non_retryable=True,
            ) from None

    def score(self, name: str, context: dict[str, Any]) -> dict[str, Any]:
        return self.get(name).score(context)


def _load_trained(data_dir: Path, name: str) -> Scorer | None:
    from wendu.scorers import artifacts

    version = artifacts.active_version(data_dir, name)
    if version is None:
        return None
    key = (str(data_dir.resolve()), name, version)
    if key not in _LOADED:
        try:
            from wendu.scorers.attrition import TabularScorer

            _LOADED[key] = TabularScorer(artifacts.load(data_dir, name, version))
        except Exception as exc:  # a broken artifact must not stop the worker
            log.warning("model %s %s unusable (%s); using the baseline formula",
                        name, version, exc)
            return None
    return _LOADED[key]


def _text_and_course_scorers(data_dir: Path | str | None) -> list[Scorer]:
    # Built lazily: each loads its active artifact (or trains in-process) on first use.
    from wendu.scorers.courses import CourseRecommender
    from wendu.scorers.text_models import TEXT_SCORERS

    where = Path(data_dir) if data_dir is not None else None
    return [*(cls(where) for cls in TEXT_SCORERS), CourseRecommender(where)]
