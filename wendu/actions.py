"""What a firing would do, read from its plan without running it: for dry runs and backtests.

The rule workflow is the one that acts; this walks the same plan over the firing's context to
say beforehand which messages and tasks it would produce. `set` values are bound, an `if` takes
the branch its condition picks, and a fast score is the one that decided the firing. What only
the running workflow can know ends the walk, with the reason: a scorer that reads the database
(`score: training_progress`), a `wait_for` whose answer lies in the future.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from wendu.activities.notify import pick_template
from wendu.rules.expressions import evaluate
from wendu.rules.plan import AssignTaskStep, IfStep, NotifyStep, ScoreStep, SetStep, WaitForStep

Action = NotifyStep | AssignTaskStep


@dataclass
class Walk:
    """The actions met, in order, and why the walk stopped early (None: it reached the end)."""

    stopped: str | None = None
    errors: list[str] = field(default_factory=list)


def planned_actions(steps: list[Any], ctx: dict[str, Any], walk: Walk) -> Iterator[Action]:
    """The notify and assign_task steps the workflow would run for `ctx`, in order.

    `ctx` is a firing's context (`event`, `employee`, `profile`, `score`, `vars`); its `vars`
    are bound as the walk goes, as the workflow binds them.
    """
    for step in steps:
        if walk.stopped:
            return
        try:
            if isinstance(step, SetStep):
                ctx["vars"].update({k: evaluate(e.source, ctx) for k, e in step.values.items()})
            elif isinstance(step, IfStep):
                branch = step.then if evaluate(step.condition.source, ctx) else step.else_
                yield from planned_actions(branch, ctx, walk)
            elif isinstance(step, ScoreStep):
                decided = (ctx.get("score") or {}).get(step.scorer)
                if decided is None:
                    walk.stopped = (f"{step.id}: the {step.scorer} scorer runs in the workflow; "
                                    f"steps after it are not shown")
                    return
                ctx["vars"][step.bind] = decided
            elif isinstance(step, NotifyStep):
                yield step
                if step.bind:
                    ctx["vars"][step.bind] = {"sent": 1, "failed": 0, "repeated": 0}
            elif isinstance(step, AssignTaskStep):
                yield step
                if step.wait:
                    walk.stopped = (f"{step.id}: the rule waits for the task's outcome; "
                                    f"steps after it are not shown")
                    return
            elif isinstance(step, WaitForStep):
                walk.stopped = (f"{step.id}: the rule waits for {step.event}; "
                                f"steps after it are not shown")
                return
        except Exception as exc:  # noqa: BLE001 - a rule error, shown to its author
            walk.errors.append(f"{step.at or step.id}: {exc}")
            walk.stopped = walk.errors[-1]
            return


def template_of(step: NotifyStep, ctx: dict[str, Any]) -> tuple[str, str | None]:
    """The template the step sends: named, or picked from a table as the workflow does."""
    if step.template_from is None:
        return step.template, None
    try:
        return pick_template(step.template_from, ctx), None
    except ValueError as exc:
        return "", str(exc)
