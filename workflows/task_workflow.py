"""TaskWorkflow: one assigned task, from creation through reminders and escalation to its outcome.

The assignee (or anyone it was assigned to before an escalation) acts through the `act` update;
the validator refuses a bad action before anything is written to history, so a refused action
changes nothing. Every timer waits on the outcome too, so an action ends the wait at once.

The assignee may `snooze` the task until a time: a reminder or an escalation that falls due
before then waits for it (the task stays open and theirs). Workflows that never received a
snooze run exactly as before, which keeps the recorded histories replaying; the first snooze
is marked with the `task-snooze` patch.

Quiet hours hold every task message (the assignment, reminders, escalations) until the
recipient's night ends, but never the task itself: a held message waits on a timer of its own
while the due time and the escalation run on at their hour. A message still held when the task
is finished, or has moved on to someone else, is dropped. Workflows started before this
(`task-quiet-hours` patch) hold only the assignment message, as they were recorded.

A task whose step says `done_when` (say, `training.completed` of the course it assigns) waits
for that event about its employee, registered like a rule's `wait_for`, and completes itself
when it comes, in the engine's name; tasks without it never register anything.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from wendu.workflows.io import (
        APPLY_TASK_ACTION,
        CLEAR_WAIT,
        CREATE_TASK,
        ENGINE_ACTOR,
        ESCALATE_TASK,
        EVALUATE,
        EVENT_SIGNAL,
        NOTIFY_TASK,
        REGISTER_WAIT,
        TASK_ACT_UPDATE,
        TASK_SNOOZE_UPDATE,
        TASK_STATE_QUERY,
        ApplyActionInput,
        CreateTaskInput,
        EscalateInput,
        EvaluateInput,
        EvaluateResult,
        EventArrived,
        NotifyInput,
        NotifyResult,
        ReachInput,
        SnoozeRequest,
        TaskAction,
        TaskInput,
        TaskOutcome,
        TaskView,
        WaitRegistration,
    )
    from wendu.workflows.policy import POLICY_PATCH, reach

# Store writes: quick, retried through a database restart, then given up (the workflow task
# fails visibly rather than the task silently never existing).
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=20,
)
# Deliveries may call slow external channels (WeCom, SMTP); keys make retries harmless.
NOTIFY_TIMEOUT = timedelta(minutes=2)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
)
# Task messages go to the in-app inbox; other channels need a field on the assign_task step.
TASK_CHANNELS = ["inapp"]
NEEDS_COMMENT = {"complete": "a comment", "dismiss": "a reason"}
SNOOZE_PATCH = "task-snooze"
# Reminders and escalation messages wait out quiet hours too, without holding the task up.
QUIET_HOURS_PATCH = "task-quiet-hours"
# Expressions are pure: a failure is the rule's and the same on every attempt.
EVALUATE_TIMEOUT = timedelta(seconds=10)
EVALUATE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
)


async def event_matches(match: str, context: dict[str, Any], what: str) -> bool:
    """Whether an awaited event (`event` in `context`) meets `match`, for `wait_for` and
    `done_when`. A malformed event is skipped with a warning: one bad event must not end a
    wait that may last weeks."""
    try:
        result = await workflow.execute_local_activity(
            EVALUATE,
            EvaluateInput(context=context, expressions={"match": match}),
            result_type=EvaluateResult,
            start_to_close_timeout=EVALUATE_TIMEOUT,
            retry_policy=EVALUATE_RETRY,
        )
    except (ActivityError, ApplicationError) as err:
        workflow.logger.warning("%s: event %s skipped: %s", what, context["event"].get("id"), err)
        return False
    return bool(result.values["match"])


@workflow.defn(name="TaskWorkflow")
class TaskWorkflow:
    def __init__(self) -> None:
        self._input: TaskInput | None = None
        self._view: TaskView | None = None
        self._outcome: TaskOutcome | None = None
        # True while an accepted action is being stored: timers hold still meanwhile.
        self._acting = False
        # Everyone the task was assigned to, in order; any of them may act.
        self._assignees: list[str] = []
        # Reminders and escalation due before this wait for it; bumped on each snooze so a
        # sleeping timer re-reads it.
        self._snoozed_until: datetime | None = None
        self._snoozes = 0
        # Messages waiting for the end of their recipient's quiet hours (see `_message`).
        self._held: list[asyncio.Task[None]] = []
        # Ids of the `done_when` events seen (deliveries are at least once).
        self._events_seen: set[str] = set()

    @workflow.run
    async def run(self, inp: TaskInput) -> TaskOutcome:
        self._input = inp
        step = inp.step
        due = workflow.now() + timedelta(seconds=step.due_seconds)
        view = await workflow.execute_activity(
            CREATE_TASK,
            CreateTaskInput(
                task=inp, workflow_id=workflow.info().workflow_id, due_at=due.isoformat()
            ),
            result_type=TaskView,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        self._assigned(view)
        waiting = await self._register_done_when()
        if workflow.patched(QUIET_HOURS_PATCH):
            await self._message(step.template, "assigned")
        elif workflow.patched(POLICY_PATCH):  # recorded before reminders waited out the night
            await self._notify_when_reachable(step.template, "assigned")
        else:  # recorded before the notification policy
            await self._notify(step.template, "assigned")

        chain = [recipient.role for recipient in step.escalate_to]
        next_role = 0
        while self._outcome is None:
            if await self._remind_until_due():
                break
            escalated = False
            while next_role < len(chain) and not escalated and self._outcome is None:
                escalated = await self._escalate(chain[next_role])
                next_role += 1
            if not escalated:
                # Nobody left to escalate to: the task stays open, overdue, until someone acts.
                await workflow.wait_condition(lambda: self._outcome is not None)

        await workflow.wait_condition(workflow.all_handlers_finished)
        if waiting is not None:
            await workflow.execute_activity(
                CLEAR_WAIT, waiting, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
            )
        if self._held:  # they end with the task; this surfaces a failed send
            await asyncio.gather(*self._held)
        assert self._outcome is not None
        return self._outcome

    @workflow.update(name=TASK_ACT_UPDATE)
    async def act(self, action: TaskAction) -> TaskView:
        assert self._view is not None
        # Two actions accepted in the same workflow task both passed the validator.
        if self._outcome is not None or self._acting:
            raise ApplicationError(f"task {self._view.id} is already finished", type="TaskFinished")
        return await self._apply(action)

    async def _register_done_when(self) -> WaitRegistration | None:
        """Registers for the step's `done_when` event, if it has one (see the module doc)."""
        assert self._input is not None
        done_when = self._input.step.done_when
        if done_when is None or not self._input.subject_employee_id:
            return None
        waiting = WaitRegistration(
            workflow_id=workflow.info().workflow_id, step_id=self._input.step.id,
            event_type=done_when.event, employee_id=self._input.subject_employee_id)
        await workflow.execute_activity(
            REGISTER_WAIT, waiting, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )
        return waiting

    @workflow.signal(name=EVENT_SIGNAL)
    async def on_event(self, arrived: EventArrived) -> None:
        """A `done_when` event: completes the task if it matches and the task is still open."""
        assert self._input is not None
        done_when, event = self._input.step.done_when, arrived.event
        event_id = str(event.get("id", ""))
        if done_when is None or event_id in self._events_seen:
            return
        self._events_seen.add(event_id)
        if event.get("type", done_when.event) != done_when.event:
            return
        await workflow.wait_condition(lambda: self._view is not None)
        assert self._view is not None
        if done_when.match is not None and not await event_matches(
                done_when.match.source, {**self._input.context, "event": event},
                f"task {self._view.id} done_when"):
            return
        await workflow.wait_condition(lambda: not self._acting)
        if self._outcome is not None:
            return
        try:
            await self._apply(TaskAction(action="complete", actor_id=ENGINE_ACTOR,
                                         comment=f"{done_when.event} {event_id}".strip()))
        except ApplicationError as err:  # finished meanwhile (in the store): nothing to do
            workflow.logger.warning("task not completed by %s: %s", event_id, err)

    async def _apply(self, action: TaskAction) -> TaskView:
        """Stores an accepted action and ends the task with it."""
        assert self._view is not None
        self._acting = True
        try:
            view = await workflow.execute_activity(
                APPLY_TASK_ACTION,
                ApplyActionInput(task_id=self._view.id, action=action),
                result_type=TaskView,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            self._view = view
            self._outcome = TaskOutcome(
                task_id=view.id,
                status=view.status,  # type: ignore[arg-type]
                actor_id=action.actor_id,
                comment=action.comment,
                escalation_level=view.escalation_level,
            )
            return view
        except (ActivityError, ApplicationError) as err:
            cause = err.cause if isinstance(err, ActivityError) else err
            message = cause.message if isinstance(cause, ApplicationError) else str(err)
            raise ApplicationError(message, type="TaskActionFailed") from err
        finally:
            self._acting = False

    def _refuse_unless_open(self) -> None:
        """The refusals every action shares; typed, as the API maps each type to a status."""
        if self._view is None:
            raise ApplicationError(
                "the task is being created; try again in a moment", type="TaskNotReady"
            )
        if self._outcome is not None or self._acting:
            raise ApplicationError(
                f"task {self._view.id} is already {self._view.status}", type="TaskFinished"
            )

    @act.validator
    def _validate_act(self, action: TaskAction) -> None:
        self._refuse_unless_open()
        if action.actor_id not in self._assignees:
            raise ApplicationError(
                f"{action.actor_id} is not assigned task {self._view.id}", type="NotAssignee"
            )
        needed = NEEDS_COMMENT.get(action.action)
        if needed and not (action.comment or "").strip():
            raise ApplicationError(f"{action.action} needs {needed}", type="InvalidAction")

    @workflow.update(name=TASK_SNOOZE_UPDATE)
    def snooze(self, request: SnoozeRequest) -> TaskView:
        assert self._view is not None
        if not workflow.patched(SNOOZE_PATCH):
            raise ApplicationError("this task cannot be snoozed", type="InvalidAction")
        self._snoozed_until = datetime.fromisoformat(request.until)
        self._snoozes += 1
        return self._shown(self._view)

    @snooze.validator
    def _validate_snooze(self, request: SnoozeRequest) -> None:
        self._refuse_unless_open()
        if request.actor_id != self._view.assignee_id:
            raise ApplicationError(
                f"only {self._view.assignee_id}, the assignee, snoozes task {self._view.id}",
                type="NotAssignee",
            )
        try:
            until = datetime.fromisoformat(request.until)
        except ValueError:
            raise ApplicationError(
                f"until: {request.until!r} is not an ISO date and time", type="InvalidAction"
            ) from None
        if until.tzinfo is None:
            raise ApplicationError(
                f"until: {request.until!r} needs a time zone offset", type="InvalidAction"
            )
        if until <= workflow.now():
            raise ApplicationError(f"until: {request.until} has passed", type="InvalidAction")

    @workflow.query(name=TASK_STATE_QUERY)
    def state(self) -> TaskView | None:
        return None if self._view is None else self._shown(self._view)

    def _shown(self, view: TaskView) -> TaskView:
        """The view with the snooze, while it lasts and the task is open."""
        until = self._snoozed_until
        if until is None or self._outcome is not None or until <= workflow.now():
            return view
        return view.model_copy(update={"snoozed_until": until.isoformat()})

    def _assigned(self, view: TaskView) -> None:
        self._view = view
        if view.assignee_id not in self._assignees:
            self._assignees.append(view.assignee_id)

    async def _remind_until_due(self) -> bool:
        """Reminds before the current due time, then waits for it; True if finished first."""
        assert self._view is not None and self._input is not None
        level = self._view.escalation_level
        due = datetime.fromisoformat(self._view.due_at)
        offsets = sorted(self._input.step.reminders_seconds, reverse=True)
        for index, offset in enumerate(offsets):
            at = due - timedelta(seconds=offset)
            if at <= workflow.now():
                continue  # its moment passed (a reminder longer than the due period)
            if await self._until(at):
                return True
            await self._message("task_reminder", f"reminder/{level}/{index}")
        return await self._until(due)

    async def _escalate(self, role: str) -> bool:
        """Moves the task to `role`; False when the role names nobody (the next one is tried)."""
        assert self._view is not None and self._input is not None
        level = self._view.escalation_level
        due = workflow.now() + timedelta(seconds=self._input.step.due_seconds)
        view = await workflow.execute_activity(
            ESCALATE_TASK,
            EscalateInput(
                task_id=self._view.id,
                role=role,
                level=level + 1,
                due_at=due.isoformat(),
                subject_employee_id=self._input.subject_employee_id,
            ),
            result_type=TaskView,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        if self._outcome is not None:
            return True  # acted on meanwhile; the action's view is the newer one
        if view.escalation_level <= level:
            workflow.logger.warning("task %s: %s names nobody, not escalated", view.id, role)
            return False
        self._assigned(view)
        await self._message("task_escalated", f"escalated/{view.escalation_level}")
        return True

    async def _until(self, at: datetime) -> bool:
        """Sleeps until `at` (or the snooze's end, if later); True as soon as the task is
        finished."""
        while self._outcome is None:
            if self._acting:
                await workflow.wait_condition(lambda: not self._acting)
                continue
            target = at
            if self._snoozed_until is not None and self._snoozed_until > at:
                target = self._snoozed_until
            remaining = (target - workflow.now()).total_seconds()
            if remaining < 0.001:  # timers are whole milliseconds
                return False
            snoozes = self._snoozes
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda seen=snoozes: (  # type: ignore[misc]
                        self._outcome is not None or self._acting or self._snoozes != seen
                    ),
                    timeout=remaining,
                )
        return True

    async def _message(self, template: str, purpose: str) -> None:
        """Sends a task message now, or holds it until the assignee's quiet hours end.

        A held message waits in a coroutine of its own, so the caller goes straight on: the
        task's reminders, due time and escalation keep their hours. Recorded before the
        `task-quiet-hours` patch, a message is sent at once, as it was.
        """
        assert self._input is not None
        if not workflow.patched(QUIET_HOURS_PATCH) or self._input.step.urgent:
            await self._notify(template, purpose)
            return
        at = await self._quiet_until()
        if at is None:
            await self._notify(template, purpose)
            return
        self._held.append(asyncio.create_task(self._send_held(template, purpose, at)))

    async def _send_held(self, template: str, purpose: str, at: datetime) -> None:
        """Sends a held message at `at`, if the task is still open and still the same person's.

        A snooze that ends later holds the message on until then, and its end may fall in the
        next night: the recipient's quiet hours are asked again in that case.
        """
        assert self._view is not None
        owner = (self._view.assignee_id, self._view.escalation_level)
        while True:
            if await self._until(at):
                return  # acted on meanwhile: the message has nothing left to ask
            if (self._view.assignee_id, self._view.escalation_level) != owner:
                return  # escalated meanwhile: the new assignee has a message of their own
            snoozed_past = self._snoozed_until is not None and self._snoozed_until > at
            later = await self._quiet_until() if snoozed_past else None
            if later is None:
                break
            at = later
        await self._notify(template, purpose)

    async def _quiet_until(self) -> datetime | None:
        """When the assignee's quiet hours end, or None if they may be reached now."""
        assert self._view is not None and self._input is not None
        found = await reach(ReachInput(
            recipient_ids=[self._view.assignee_id],
            quiet_hours=self._input.quiet_hours,
            now=workflow.now().isoformat(),
        ))
        return datetime.fromisoformat(found.held[0].at) if found.held else None

    async def _notify_when_reachable(self, template: str, purpose: str) -> None:
        """The assignment message, as recorded before the `task-quiet-hours` patch: it waits
        out the assignee's quiet hours and holds up the reminders meanwhile; an action ends
        the wait and the message is not sent."""
        at = await self._quiet_until()
        if at is not None and await self._until(at):
            return
        await self._notify(template, purpose)

    async def _notify(self, template: str, purpose: str) -> None:
        assert self._view is not None and self._input is not None
        if self._outcome is not None:
            return
        result = await workflow.execute_activity(
            NOTIFY_TASK,
            NotifyInput(
                workflow_id=workflow.info().workflow_id,
                step_id=self._input.step.id,
                rule_id=self._input.rule_id,
                template=template,
                channels=TASK_CHANNELS,
                recipient_ids=[self._view.assignee_id],
                subject_employee_id=self._input.subject_employee_id,
                context=self._input.context,
                extra={"task": self._view.model_dump(mode="json"), "why": self._input.why,
                       "why_zh": self._input.why_zh},
                purpose=purpose,
                at=workflow.now().isoformat(),
                urgent=self._input.step.urgent,
            ),
            result_type=NotifyResult,
            start_to_close_timeout=NOTIFY_TIMEOUT,
            retry_policy=NOTIFY_RETRY,
        )
        if result.unresolved:
            workflow.logger.warning(
                "task %s: %s not delivered: %s", self._view.id, purpose, result.unresolved
            )
