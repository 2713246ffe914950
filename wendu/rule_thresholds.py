"""The risk thresholds the rules act at, per scorer: what `wendu models fairness` measures at.

A fairness report at a threshold no rule uses says little about the people a rule flags. A
rule says its threshold in a condition on the score it bound (`risk.value >= threshold`),
with the number written there or set by a `set:` step before it; both are read from the
compiled plan, so what is found is what the engine evaluates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from wendu.rules.plan import IfStep, Plan, ScoreStep, SetStep

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def thresholds(plans: Iterable[Plan], scorer: str) -> list[tuple[str, float]]:
    """(rule id, threshold) for each rule that acts on `scorer` at `value >= N` (or `> N`)."""
    found: list[tuple[str, float]] = []
    for plan in plans:
        for value in _walk(plan.steps, scorer, {}, set()):
            if (plan.rule_id, value) not in found:
                found.append((plan.rule_id, value))
    return found


def _walk(steps: list[Any], scorer: str, numbers: dict[str, float],
          binds: set[str]) -> Iterable[float]:
    for step in steps:
        if isinstance(step, SetStep):
            for name, expr in step.values.items():
                literal = (step.literals or {}).get(name, expr.source)
                if isinstance(literal, int | float) or _NUMBER.match(str(literal).strip()):
                    numbers[name] = float(literal)
        elif isinstance(step, ScoreStep) and step.scorer == scorer:
            binds.add(step.bind)
        elif isinstance(step, IfStep):
            for bind in binds:
                pattern = rf"\b{re.escape(bind)}\.value\s*>=?\s*([A-Za-z_]\w*|-?\d+(?:\.\d+)?)"
                for token in re.findall(pattern, step.condition.source):
                    value = numbers.get(token) if token[0].isalpha() or token[0] == "_" else (
                        float(token))
                    if value is not None:
                        yield value
            yield from _walk(step.then, scorer, dict(numbers), set(binds))
            yield from _walk(step.else_, scorer, dict(numbers), set(binds))
