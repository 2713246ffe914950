"""RuleWorkflow walks a compiled plan (ScanWorkflow, in scan_workflow.py, runs a schedule's scan).

The plan is the input, so it is in history and a running workflow keeps the rule version it
started with. Every expression is evaluated by the EVALUATE local activity, whose results are
recorded in history: replay never evaluates again and the workflow never imports Jinja2.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from wendu.rules.plan import (
        AssignTaskStep,
        IfStep,
        NotifyStep,
        RecordStep,
        ScoreStep,
        SetStep,
        Step,
        WaitForStep,
        WaitStep,
    )
    from wendu.workflows.io import (
        CLEAR_WAIT,
        EVALUATE,
        EVENT_SIGNAL,
        NOTIFY,
        RECORD_OUTCOME,
        REGISTER_WAIT,
        SCORE,
        EvaluateInput,
        EvaluateResult,
        EventArrived,
        NotifyInput,
        NotifyResult,
        ReachInput,
        RecordInput,
        RuleInput,
        RuleResult,
        ScoreInput,
        ScoreResult,
        TaskInput,
        WaitRegistration,
    )
    from wendu.workflows.policy import POLICY_PATCH, deliver_when_reachable
    from wendu.workflows.task_timing import (
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        STORE_RETRY,
        STORE_TIMEOUT,
    )
    from wendu.workflows.task_workflow import (
        EVALUATE_RETRY,
        EVALUATE_TIMEOUT,
        TaskWorkflow,
        event_matches,
    )
    from wendu.workflows.why import explain

# The patch id of `record` as one local activity: workflows recorded before evaluated the
# value first and stored it with a normal activity.
RECORD_LOCAL_PATCH = "record-local"
# The patch id of `notify` as a local activity: workflows recorded before scheduled it.
NOTIFY_LOCAL_PATCH = "notify-local"
SCORE_TIMEOUT = timedelta(minutes=1)
SCORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)


def task_id_for(parent_workflow_id: str, step_id: str) -> str:
    digest = hashlib.sha256(f"{parent_workflow_id}/{step_id}".encode()).hexdigest()
    return f"T-{digest[:16]}"


@workflow.defn(name="RuleWorkflow")
class RuleWorkflow:
    def __init__(self) -> None:
        # Every event signalled to this workflow, in arrival order; wait_for steps read it.
        self._events: list[dict[str, Any]] = []
        self._steps_run: list[str] = []
        self._ctx: dict[str, Any] = {}

    @workflow.signal(name=EVENT_SIGNAL)
    def on_event(self, arrived: EventArrived) -> None:
        # Deliveries are at least once (an outbox re-sends what it could not confirm).
        event_id = arrived.event.get("id")
        if event_id is not None and any(e.get("id") == event_id for e in self._events):
            return
        self._events.append(arrived.event)

    @workflow.run
    async def run(self, inp: RuleInput) -> RuleResult:
        self._inp = inp
        self._id = workflow.info().workflow_id
        # The rule's lookup tables are names like any bound one (empty in older plans).
        self._ctx = {**inp.context,
                     "vars": {**inp.plan.tables, **dict(inp.context.get("vars") or {})}}
        self._why = explain(inp.plan, inp.firing)
        self._why_zh = explain(inp.plan, inp.firing, "zh")
        await self._run_steps(inp.plan.steps)
        return RuleResult(rule_id=inp.plan.rule_id, steps_run=self._steps_run, vars=self._vars)

    @property
    def _vars(self) -> dict[str, Any]:
        return self._ctx["vars"]

    async def _run_steps(self, steps: list[Step]) -> None:
        for step in steps:
            self._steps_run.append(step.id)
            await self._run_step(step)

    async def _run_step(self, step: Step) -> None:
        match step:
            case ScoreStep():
                await self._score(step)
            case SetStep() if step.literals is not None:
                self._vars.update(step.literals)  # literals only: nothing to evaluate
            case SetStep():
                result = await self._evaluate(step, {k: e.source for k, e in step.values.items()})
                self._vars.update(result.values)
            case IfStep():
                result = await self._evaluate(step, {"if": step.condition.source})
                await self._run_steps(step.then if result.values["if"] else step.else_)
            case NotifyStep():
                await self._notify(step)
            case AssignTaskStep():
                await self._assign_task(step)
            case WaitStep():
                await workflow.sleep(timedelta(seconds=step.seconds))
            case WaitForStep():
                await self._wait_for(step)
            case RecordStep():
                await self._record(step)
            case _:  # pragma: no cover - the plan union is closed
                raise ApplicationError(f"unknown step {step!r}", non_retryable=True)

    async def _evaluate(
        self,
        step: Step,
        expressions: dict[str, str] | None = None,
        texts: dict[str, str] | None = None,
        ctx: dict[str, Any] | None = None,
    ) -> EvaluateResult:
        try:
            return await workflow.execute_local_activity(
                EVALUATE,
                EvaluateInput(
                    context=ctx or self._ctx, expressions=expressions or {}, texts=texts or {}
                ),
                result_type=EvaluateResult,
                start_to_close_timeout=EVALUATE_TIMEOUT,
                retry_policy=EVALUATE_RETRY,
            )
        except (ActivityError, ApplicationError) as err:
            # A local activity's failure may arrive wrapped in ActivityError or not.
            cause = err.cause if isinstance(err, ActivityError) else err
            message = cause.message if isinstance(cause, ApplicationError) else str(err)
            raise ApplicationError(
                f"{step.at or step.id}: {message}", type="RuleError", non_retryable=True
            ) from err

    async def _score(self, step: ScoreStep) -> None:
        decided = (self._ctx.get("score") or {}).get(step.scorer)
        if decided is not None and not step.args:
            # Scored at ingest, where this score decided the firing: the same result, not a
            # second opinion (contexts recorded before fast scores have none: replay as before).
            self._vars[step.bind] = decided
            return
        # Only steps with `with:` evaluate anything: plans without it replay as before.
        args: dict[str, Any] = {}
        if step.args:
            args = (await self._evaluate(step, {k: e.source for k, e in step.args.items()})).values
        result = await workflow.execute_activity(
            SCORE,
            ScoreInput(
                workflow_id=self._id,
                step_id=step.id,
                scorer=step.scorer,
                employee_id=self._inp.firing.employee_id,
                context=self._ctx,
                args=args,
            ),
            result_type=ScoreResult,
            start_to_close_timeout=SCORE_TIMEOUT,
            retry_policy=SCORE_RETRY,
        )
        self._vars[step.bind] = result.model_dump(mode="json")

    async def _notify(self, step: NotifyStep) -> None:
        inp = NotifyInput(
            workflow_id=self._id,
            step_id=step.id,
            rule_id=self._inp.plan.rule_id,
            template=step.template,
            template_from=step.template_from,
            channels=step.channels,
            roles=[r.role for r in step.to],
            subject_employee_id=self._inp.firing.employee_id,
            context=self._ctx,
            urgent=step.urgent,
            extra={"why": self._why, "why_zh": self._why_zh},
            once_per=step.once_per,
            category=step.category,
        )
        deliveries: list[Any] = []
        if not workflow.patched(POLICY_PATCH):  # recorded before the notification policy
            deliveries += await self._send(step, inp)
        else:
            policy = self._inp.plan.policy

            async def send(only_ids: list[str]) -> None:
                deliveries.extend(await self._send(step, inp.model_copy(update={
                    "only_ids": only_ids,
                    "at": workflow.now().isoformat(),
                    "daily_cap": policy.daily_cap if policy else None,
                })))

            if step.urgent:  # bypasses quiet hours here and the daily cap in the activity
                await send([])
            else:
                await deliver_when_reachable(send, ReachInput(
                    roles=inp.roles,
                    subject_employee_id=inp.subject_employee_id,
                    quiet_hours=policy.quiet_hours if policy else None,
                    now=workflow.now().isoformat(),
                ))
        if step.bind:
            counts = {kind: sum(1 for d in deliveries if d.status == kind)
                      for kind in ("failed", "repeated")}
            self._vars[step.bind] = {"sent": len(deliveries) - sum(counts.values()), **counts}

    async def _send(self, step: NotifyStep, inp: NotifyInput) -> list[Any]:
        """The step's deliveries to the people `inp` names."""
        if workflow.patched(NOTIFY_LOCAL_PATCH):
            # In the workflow task itself: no activity task on the server, so a message-only
            # rule is one workflow task. Its deliveries are keyed by workflow and step, so a
            # retried or re-run attempt repeats nothing.
            result = await workflow.execute_local_activity(
                NOTIFY,
                inp,
                result_type=NotifyResult,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
        else:  # workflows recorded before ran it as a normal activity
            result = await workflow.execute_activity(
                NOTIFY,
                inp,
                result_type=NotifyResult,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
        if result.unresolved:
            workflow.logger.warning("%s: nobody for %s", step.at or step.id, result.unresolved)
        return list(result.deliveries)

    async def _assign_task(self, step: AssignTaskStep) -> None:
        texts = {"title": step.title.source}
        if step.title_en is not None:  # one title per language: each reader sees theirs
            texts["title_en"] = step.title_en.source
        titles = (await self._evaluate(step, texts=texts)).texts
        task_id = task_id_for(self._id, step.id)
        task = TaskInput(
            task_key=f"{self._id}/{step.id}",
            task_id=task_id,
            parent_workflow_id=self._id,
            rule_id=self._inp.plan.rule_id,
            step=step,
            title=titles["title"],
            titles={"zh-CN": titles["title"], "en": titles["title_en"]} if step.title_en else {},
            subject_employee_id=self._inp.firing.employee_id,
            context=self._ctx,
            why=self._why,
            why_zh=self._why_zh,
            quiet_hours=self._inp.plan.policy.quiet_hours if self._inp.plan.policy else None,
        )
        if not step.wait:
            # The task outlives the rule: it has its own timers and its own assignee.
            await workflow.start_child_workflow(
                TaskWorkflow.run,
                task,
                id=f"task/{task_id}",
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
            return
        outcome = await workflow.execute_child_workflow(
            TaskWorkflow.run, task, id=f"task/{task_id}"
        )
        if step.bind:
            self._vars[step.bind] = outcome.model_dump(mode="json")

    async def _wait_for(self, step: WaitForStep) -> None:
        employee_id = self._inp.firing.employee_id
        if not employee_id:
            raise ApplicationError(
                f"{step.at or step.id}: wait_for needs the employee the rule fired for",
                type="RuleError",
                non_retryable=True,
            )
        wait = WaitRegistration(
            workflow_id=self._id, step_id=step.id, event_type=step.event, employee_id=employee_id
        )
        # Events signalled from here on are candidates, even before the registration returns.
        cursor = len(self._events)
        await workflow.execute_activity(
            REGISTER_WAIT, wait, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )
        try:
            matched = await self._next_match(step, cursor)
        finally:
            await workflow.execute_activity(
                CLEAR_WAIT, wait, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
            )
        if matched is None:
            await self._run_steps(step.on_timeout)
        elif step.bind:
            self._vars[step.bind] = matched

    async def _next_match(self, step: WaitForStep, cursor: int) -> dict[str, Any] | None:
        deadline = workflow.now() + timedelta(seconds=step.timeout_seconds)
        while True:
            while cursor < len(self._events):
                event = self._events[cursor]
                cursor += 1
                if await self._matches(step, event):
                    return event
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining < 0.001:  # timers are whole milliseconds
                return None

            def arrived(seen: int = cursor) -> bool:
                return len(self._events) > seen

            # On timeout, events that came with the deadline are still looked at, then we stop.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(arrived, timeout=remaining)

    async def _matches(self, step: WaitForStep, event: dict[str, Any]) -> bool:
        if event.get("type", step.event) != step.event:
            return False
        employee_id = event.get("employee_id")
        if employee_id and employee_id != self._inp.firing.employee_id:
            return False
        if step.match is None:
            return True
        return await event_matches(step.match.source, {**self._ctx, "event": event}, step.id)

    async def _record(self, step: RecordStep) -> None:
        record = RecordInput(
            workflow_id=self._id,
            step_id=step.id,
            rule_id=self._inp.plan.rule_id,
            employee_id=self._inp.firing.employee_id,
            metric=step.metric,
        )
        if workflow.patched(RECORD_LOCAL_PATCH):
            # One idempotent row, its value read in the same local activity: no evaluation
            # round trip and no activity task on the server.
            try:
                await workflow.execute_local_activity(
                    RECORD_OUTCOME,
                    record.model_copy(update={"expression": step.value.source,
                                              "context": self._ctx, "at": step.at or step.id}),
                    start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY)
            except ActivityError as err:
                # The rule's own mistake fails the rule with it, as an evaluation does.
                if isinstance(err.cause, ApplicationError) and err.cause.type == "RuleError":
                    raise ApplicationError(err.cause.message, type="RuleError",
                                           non_retryable=True) from err
                raise
            return
        # Workflows recorded before the patch: evaluate, then a normal activity.
        raw = (await self._evaluate(step, {"value": step.value.source})).values["value"]
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ApplicationError(
                f"{step.at or step.id}: record {step.metric}: {raw!r} is not a number",
                type="RuleError",
                non_retryable=True,
            ) from None
        await workflow.execute_activity(
            RECORD_OUTCOME, record.model_copy(update={"value": value}),
            start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY)
