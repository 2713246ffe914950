"""Decide at ingest: fast scores for a whole batch, then the in-process match.

Whether a rule fires is decided here, where it is cheap, and never inside a workflow: each
fast scorer a rule of the event's type reads (`score.intent.label` in its `when`) scores every
such event of the batch in one call (one vectoriser pass and one `predict_proba`), the matcher
evaluates the compiled conditions, and only a match becomes a firing. The score that decided a
firing goes into its context with its model version and, for the few events that fired, its
explanation (phrases, factors), so the workflow sees exactly what decided it and never scores
again.

Live ingest, the console's dry run, rule tests and backtests all call `decide`, so what a test
or a backtest says is what production does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wendu.rules.matcher import MatchError, MatchResult

log = logging.getLogger(__name__)


class FastScorers:
    """The fast scorers of a registry, used in batches; built once per process and data dir."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        # Scoring runs in worker threads of the API; a text model trains or loads on first use.
        self._lock = threading.Lock()

    @classmethod
    def default(cls, data_dir: Path | str | None = None) -> FastScorers:
        key = str(Path(data_dir).resolve()) if data_dir is not None else ""
        with _DEFAULTS_LOCK:
            found = _DEFAULTS.get(key)
            if found is None:
                from wendu.scorers.registry import ScorerRegistry

                found = _DEFAULTS[key] = cls(ScorerRegistry.default(data_dir))
        return found

    def batch(self, name: str, contexts: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """One result per context (None where that context cannot be scored)."""
        return self._many(name, contexts, "score_batch")

    def explain_many(self, name: str, contexts: list[dict[str, Any]]
                     ) -> list[dict[str, Any] | None]:
        """Full results, factors and phrases included, for contexts that fired a rule."""
        return self._many(name, contexts, "explain_batch")

    def _many(self, name: str, contexts: list[dict[str, Any]], method: str
              ) -> list[dict[str, Any] | None]:
        """The scorer's `method` on the whole batch where it has one (one vectoriser pass and
        one predict_proba), else, or if the batch fails, one context at a time."""
        scorer = self.registry.get(name)
        many = getattr(scorer, method, None)
        if many is not None:
            try:
                with self._lock:
                    return list(many(contexts))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("fast scorer %s failed on a batch (%s); scoring one by one",
                            name, exc)
        # One by one, each result whole: a topic's factors are its result, not only its why.
        return [self._one(scorer, name, c) for c in contexts]

    def _one(self, scorer: Any, name: str, context: dict[str, Any]) -> dict[str, Any] | None:
        try:
            with self._lock:
                return dict(scorer.score(context))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("fast scorer %s could not score: %s", name, exc)
            return None


_DEFAULTS: dict[str, FastScorers] = {}
_DEFAULTS_LOCK = threading.Lock()


def warm_up_scorers(scorers: Any) -> threading.Thread:
    """Loads every scorer's model in a background thread, and returns the thread.

    A text scorer without an active artifact trains in-process on first use (seconds); done
    here at start, a rule's first `score` step finds it ready instead of waiting. Reading
    `model_version` is what loads a scorer; the SCORE activity reuses the same instances.
    """

    def load_all() -> None:
        ready = []
        for name in scorers.names():
            try:
                ready.append(f"{name} {scorers.get(name).model_version}")
            except Exception:  # a broken model must not stop the others, nor the worker
                log.warning("scorer %s could not be loaded at start", name, exc_info=True)
        log.info("scorers ready: %s", ", ".join(ready))

    thread = threading.Thread(target=load_all, name="wendu-scorer-warm-up", daemon=True)
    thread.start()
    return thread


def fast_scores_needed(index: Any, event_type: str) -> list[str]:
    """The fast scorers the enabled rules of `event_type` read."""
    return sorted({name for plan in index.rules_for(event_type) for name in plan.fast_scores})


def decide(
    items: Sequence[tuple[str, dict[str, Any]]],
    index: Any,
    scorers: FastScorers | None = None,
    ages: Sequence[float | None] | None = None,
    stales: Sequence[list[str]] | None = None,
) -> list[MatchResult]:
    """Which rules each (event type, context) fires, in batch order.

    Each context gets `score` (the fast scores its event type's rules read) before the match;
    a context that fired keeps the explained results, so its firing records what decided it.
    `ages`: per context, seconds from the event to its arrival; a rule it is too old for is
    not evaluated (`MatchResult.stale`); `stales`: per context, those rules, when the caller
    has them already (`RuleIndex.stale_for`).
    """
    needs = {t: fast_scores_needed(index, t) for t in {t for t, _ in items}}
    wanted: dict[str, list[int]] = {}
    for i, (event_type, _) in enumerate(items):
        for name in needs[event_type]:
            wanted.setdefault(name, []).append(i)
    failed: dict[int, list[str]] = {}
    if wanted:
        scorers = scorers or FastScorers.default()
        for name, positions in wanted.items():
            contexts = [items[i][1] for i in positions]
            for i, result in zip(positions, scorers.batch(name, contexts), strict=True):
                if result is None:
                    failed.setdefault(i, []).append(name)
                else:
                    items[i][1].setdefault("score", {})[name] = result
    ages = ages if ages is not None else [None] * len(items)
    known = stales if stales is not None else [None] * len(items)
    results = [index.match(event_type, ctx, age, stale)
               for (event_type, ctx), age, stale in zip(items, ages, known, strict=True)]
    for i, result in enumerate(results):
        for name in failed.get(i, ()):
            result.errors.append(MatchError(f"score.{name}", "the scorer could not read this "
                                            "event; rules reading it were not evaluated"))
    if scorers is not None:
        _keep_deciding_scores(scorers, [ctx for _, ctx in items], results)
    return results


def _keep_deciding_scores(scorers: FastScorers, contexts: list[dict[str, Any]],
                          results: list[MatchResult]) -> None:
    """The scores that made the batch's matches, explained (phrases, factors) for the firings'
    contexts, one call per scorer, and named in each match's facts: the "why" of a message
    shows what decided it."""
    explain: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        scores = contexts[i].get("score") or {}
        for name in sorted({n for m in result.matches for n in m.plan.fast_scores
                            if n in scores}):
            explain.setdefault(name, []).append(i)
    for name, positions in explain.items():
        explained = scorers.explain_many(name, [contexts[i] for i in positions])
        for i, found in zip(positions, explained, strict=True):
            if found is not None:
                contexts[i]["score"][name] = found
    for i, result in enumerate(results):
        scores = contexts[i].get("score") or {}
        for match in result.matches:
            for name in match.plan.fast_scores:
                if name in scores:
                    match.values[f"score.{name}.label"] = scores[name].get("label")
                    match.values[f"score.{name}.value"] = scores[name].get("value")
