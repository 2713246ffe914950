import pytest

from wendu.rules.compiler import DEFAULT_SCORERS, compile_text
from wendu.rules.errors import RuleErrors
from wendu.scorers.registry import ScorerRegistry

RULE = """\
id: s
version: 1
title: S
trigger: {event: survey.response}
dedupe: "{{ employee.id }}"
steps:
  - score: %s
"""


def test_compiler_knows_exactly_the_scorers_the_worker_runs() -> None:
    assert set(ScorerRegistry.default().names()) == DEFAULT_SCORERS


def test_a_scorer_the_worker_cannot_run_is_a_compile_error() -> None:
    compile_text(RULE % "burnout", "s.yaml")
    with pytest.raises(RuleErrors) as exc:
        compile_text(RULE % "mood", "s.yaml")
    assert "s.yaml:7:12: error: unknown scorer 'mood'" in str(exc.value.problems[0])


def test_every_scorer_a_when_may_read_is_fast_and_scores_batches() -> None:
    from wendu.rules.catalog import FAST_SCORERS

    registry = ScorerRegistry.default()
    for name in FAST_SCORERS:
        scorer = registry.get(name)
        assert getattr(scorer, "fast", False) is True, name
    # Burnout compares with the team's load, which no single profile carries: not fast.
    assert "burnout" not in FAST_SCORERS
