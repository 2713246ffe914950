"""EVALUATE: rule expressions and text templates over a workflow's context.

Run as a local activity, so each result is written to history as a marker: replay reads the
recorded value instead of evaluating again, and the workflow never imports the template engine.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wendu.rules import expressions
from wendu.workflows.io import EVALUATE, EvaluateInput, EvaluateResult


def _jsonable(value: Any) -> Any:
    # Results travel through history as JSON: dates become ISO strings, sets lists.
    return to_jsonable_python(value, fallback=str)


class Evaluator:
    @activity.defn(name=EVALUATE)
    async def evaluate(self, inp: EvaluateInput) -> EvaluateResult:
        result = EvaluateResult()
        # In written order, each value visible to the next by name, as a `set:` list reads.
        ctx = {**inp.context, "vars": dict(inp.context.get("vars") or {})}
        for name, source in inp.expressions.items():
            try:
                value = _jsonable(expressions.evaluate(source, ctx))
            except Exception as err:  # an expression error is the rule's, never the worker's
                raise _failure(name, source, err) from err
            result.values[name] = ctx["vars"][name] = value
        for name, source in inp.texts.items():
            try:
                result.texts[name] = str(expressions.render(source, ctx))
            except Exception as err:
                raise _failure(name, source, err) from err
        return result


def _failure(name: str, source: str, err: Exception) -> ApplicationError:
    return ApplicationError(
        f"{name}: cannot evaluate {source!r}: {err}", type="ExpressionError", non_retryable=True
    )
