"""Which rules, steps and branches the tests reached.

A finished rule workflow returns the steps it ran. One still waiting when its case ends (for
a task nobody can finish, say) is read from its history instead: a step that left a trace
(an activity or a task naming its step) ran, and so did everything before it on its path.
Branches: an `if` was true or false; a `wait_for` got its event or timed out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from wendu.rules.plan import IfStep, Plan, Step, WaitForStep
from wendu.ruletest.world import World
from wendu.workflows.rule_workflow import task_id_for

_LAST = re.compile(r"^(?:(.*)\.)?([a-z_]+)\[(\d+)\]$")


def all_steps(steps: list[Step]) -> Iterable[Step]:
    for step in steps:
        yield step
        if isinstance(step, IfStep):
            yield from all_steps(step.then)
            yield from all_steps(step.else_)
        elif isinstance(step, WaitForStep):
            yield from all_steps(step.on_timeout)


def _parent_and_earlier(step_id: str) -> list[str]:
    """Ancestors and earlier siblings at every level: what ran before `step_id` did."""
    out: list[str] = []
    current = step_id
    while True:
        match = _LAST.match(current)
        if not match:
            return out
        parent, branch, index = match[1], match[2], int(match[3])
        prefix = f"{parent}.{branch}" if parent else branch
        out.extend(f"{prefix}[{i}]" for i in range(index))
        if not parent:
            return out
        out.append(parent)
        current = parent


@dataclass
class RuleCoverage:
    plan: Plan
    tested: bool = False
    fired: int = 0
    steps: set[str] = field(default_factory=set)
    # (step id, branch): "then" / "else" for `if`, "event" / "timeout" for `wait_for`.
    branches: set[tuple[str, str]] = field(default_factory=set)

    def add_run(self, steps_run: Iterable[str], finished: bool) -> None:
        ran = set(steps_run)
        self.steps |= ran
        order = [s.id for s in all_steps(self.plan.steps)]
        for step in all_steps(self.plan.steps):
            if step.id not in ran:
                continue
            if isinstance(step, IfStep):
                took = _branch_taken(ran, step.then, step.else_)
                if took is None and (finished or _later_ran(step, ran, order)):
                    took = "else"
                if took:
                    self.branches.add((step.id, took))
            elif isinstance(step, WaitForStep):
                if any(s.id in ran for s in step.on_timeout):
                    self.branches.add((step.id, "timeout"))
                elif finished or _later_ran(step, ran, order):
                    self.branches.add((step.id, "event"))

    def missing_steps(self) -> list[Step]:
        return [s for s in all_steps(self.plan.steps) if s.id not in self.steps]

    def missing_branches(self) -> list[tuple[Step, str]]:
        out = []
        for step in all_steps(self.plan.steps):
            kinds = ("then", "else") if isinstance(step, IfStep) else \
                ("event", "timeout") if isinstance(step, WaitForStep) and step.on_timeout else ()
            out.extend((step, k) for k in kinds if (step.id, k) not in self.branches)
        return out


def _branch_taken(ran: set[str], then: list[Step], else_: list[Step]) -> str | None:
    if any(s.id in ran for s in then):
        return "then"
    if any(s.id in ran for s in else_):
        return "else"
    return None


def _later_ran(step: Step, ran: set[str], order: list[str]) -> bool:
    inside = {s.id for s in all_steps([step])}
    start = order.index(step.id)
    return any(s in ran for s in order[start + 1:] if s not in inside)


async def collect(world: World, rule_id: str, into: RuleCoverage) -> None:
    """Adds the steps the rule's workflows of this world ran. Lets a year pass first, so
    workflows waiting on timers finish and report every step they would take."""
    firings = world.firings(rule_id)
    into.fired += len(firings)
    if not firings:
        return
    await world.advance_for_coverage()
    for firing in firings:
        handle = world.env.client.get_workflow_handle(firing.workflow_id)
        described = await handle.describe()
        if described.status == WorkflowExecutionStatus.COMPLETED:
            result = await handle.result()
            into.add_run(getattr(result, "steps_run", None) or result.get("steps_run", []),
                         finished=True)
        else:
            into.add_run(await _traced_steps(world, firing.workflow_id, into.plan), False)


async def _traced_steps(world: World, workflow_id: str, plan: Plan) -> set[str]:
    by_task = {task_id_for(workflow_id, s.id): s.id for s in all_steps(plan.steps)}
    converter = world.env.client.data_converter
    history = await world.env.client.get_workflow_handle(workflow_id).fetch_history()
    traced: set[str] = set()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            payloads = event.activity_task_scheduled_event_attributes.input.payloads
            if payloads:
                first, = await converter.decode(payloads[:1], [dict])
                if isinstance(first, dict) and first.get("step_id"):
                    traced.add(first["step_id"])
        elif event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            child = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            step = by_task.get(child.removeprefix("task/"))
            if step:
                traced.add(step)
    ran = set(traced)
    for step_id in traced:
        ran.update(_parent_and_earlier(step_id))
    return ran
