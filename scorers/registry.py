"""The scorers a rule's `score` step can name, looked up by name at run time."""

from __future__ import annotations

from typing import Any, Protocol

from temporalio.exceptions import ApplicationError

from wendu.scorers.baseline import BASELINE_SCORERS


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
    def default(cls) -> ScorerRegistry:
        return cls(BASELINE_SCORERS)

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
