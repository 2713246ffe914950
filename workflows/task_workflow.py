"""TaskWorkflow: one assigned task, from creation through reminders and escalation to its outcome.

The assignee (or anyone it was assigned to before an escalation) acts through the `act` update;
the validator refuses a bad action before anything is written to history, so a refused action
changes nothing. Every timer waits on the outcome too, so an action ends the wait at once.

Acknowledging means "I'm on it": reminders and escalation stop and the task stays open, in
progress, until it is completed or dismissed. Delegating (the assignee) or reassigning (HR)
hands the task to another employee with a comment; it is open again and theirs, and they are
told. The person who took the last action may `undo` it within a minute; a completion or a
dismissal therefore ends the workflow (and the rule goes on) only when that minute is over.
Workflows recorded before this ended at the acknowledgement (`task-in-progress` patch) and at
the outcome (`task-undo` patch), and replay so.

The assignee may `snooze` the task until a time: a reminder or an escalation that falls due
before then waits for it (the task stays open and theirs). Workflows that never received a
snooze run exactly as before, which keeps the recorded histories replaying; the first snooze
is marked with the `task-snooze` patch. Its clock and messages are the `TaskTiming` mixin's.

A task whose step says `done_when` (say, `training.completed` of the course it assigns) waits
for that event about its employee, registered like a rule's `wait_for`, and completes itself
when it comes, in the engine's name; tasks without it never register anything.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from wendu.workflows.task_checks import (
    HAND_OVER,
    check_act,
    check_snooze,
    check_undo,
    refuse_unless_open,
)
from wendu.workflows.task_timing import (
    QUIET_HOURS_PATCH,
    STORE_RETRY,
    STORE_TIMEOUT,
    TaskTiming,
)

with workflow.unsafe.imports_passed_through():
    from wendu.workflows.io import (
        APPLY_TASK_ACTION,
        CLEAR_WAIT,
        CREATE_TASK,
        ENGINE_ACTOR,
        EVALUATE,
        EVENT_SIGNAL,
        REGISTER_WAIT,
        TASK_ACT_UPDATE,
        TASK_SNOOZE_UPDATE,
        TASK_STATE_QUERY,
        TASK_UNDO_UPDATE,
        UNDO_TASK_ACTION,
        ApplyActionInput,
        CreateTaskInput,
        EvaluateInput,
        EvaluateResult,
        EventArrived,
        SnoozeRequest,
        TaskAction,
        TaskInput,
        TaskOutcome,
        TaskView,
        UndoInput,
        UndoRequest,
        WaitRegistration,
    )
    from wendu.workflows.policy import POLICY_PATCH

SNOOZE_PATCH = "task-snooze"
IN_PROGRESS_PATCH = "task-in-progress"
UNDO_PATCH = "task-undo"
UNDO_WINDOW = timedelta(minutes=1)
# Expressions are pure: a failure is the rule's and the same on every attempt.
EVALUATE_TIMEOUT = timedelta(seconds=10)
EVALUATE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
)


@dataclass(frozen=True)
class _Last:
    """The last action a person may still undo: what, by whom, until when."""

    action: str
    actor_id: str
    until: datetime
    snoozed_until: datetime | None = None  # a snooze's undo puts back the one before


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
class TaskWorkflow(TaskTiming):
    def __init__(self) -> None:
        self._input: TaskInput | None = None
        self._view: TaskView | None = None
        self._outcome: TaskOutcome | None = None
        # True while an accepted action is being stored: timers hold still meanwhile.
        self._acting = False
        # Acknowledged ("I'm on it"): no reminders, no escalation, until finished or handed on.
        self._in_progress = False
        self._handovers = 0
        self._last: _Last | None = None
        # Everyone the task was assigned to, in order; any of them may act.
        self._assignees: list[str] = []
        # Reminders and escalation due before this wait for it; bumped on each snooze so a
        # sleeping timer re-reads it.
        self._snoozed_until: datetime | None = None
        self._snoozes = 0
        self._remind_at: dict[datetime, list[datetime]] = {}
        # Messages waiting for the end of their recipient's quiet hours (see `_message`).
        self._held: list[asyncio.Task[None]] = []
        # Ids of the `done_when` events seen (deliveries are at least once).
        self._events_seen: set[str] = set()

    @workflow.run
    async def run(self, inp: TaskInput) -> TaskOutcome:
        self._input = inp
        step = inp.step
        due = await self._due_after(step.due_seconds)
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
        while True:
            while self._outcome is None:
                if self._in_progress:
                    await workflow.wait_condition(
                        lambda: self._outcome is not None or not self._in_progress)
                    continue
                if await self._remind_until_due():
                    continue  # finished, or taken on: the loop's head says which
                escalated = False
                while (next_role < len(chain) and not escalated and self._outcome is None
                       and not self._in_progress):
                    escalated = await self._escalate(chain[next_role])
                    next_role += 1
                if not escalated:
                    # Nobody left to escalate to: the task stays open, overdue, until someone
                    # acts (or takes it on, or hands it over: then the loop goes round again).
                    handovers = self._handovers
                    await workflow.wait_condition(
                        lambda seen=handovers: (  # type: ignore[misc]
                            self._outcome is not None or self._in_progress
                            or self._handovers != seen))
            if await self._outcome_stands():
                break

        await workflow.wait_condition(workflow.all_handlers_finished)
        if waiting is not None:
            await workflow.execute_activity(
                CLEAR_WAIT, waiting, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
            )
        while self._held:  # they end with the task; this surfaces a failed send
            await asyncio.gather(*self._held)
            if all(held.done() for held in self._held):  # a hand-over may have added one
                break
        assert self._outcome is not None
        return self._outcome

    async def _outcome_stands(self) -> bool:
        """After a person's completion or dismissal: waits out its undo window. False if it was
        undone (the task is open again)."""
        last = self._last
        if last is None or last.action not in ("complete", "dismiss"):
            return True
        if not workflow.patched(UNDO_PATCH):
            return True  # recorded before undo: the outcome stood at once
        while True:
            remaining = (last.until - workflow.now()).total_seconds()
            if remaining >= 0.001:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        # The wait ends before `last` is rebound: binding it late is right.
                        lambda: self._outcome is None or self._last is not last,  # noqa: B023
                        timeout=remaining)
            await workflow.wait_condition(lambda: not self._acting)
            if self._outcome is None:
                return False
            if self._last is None or self._last.action not in ("complete", "dismiss"):
                return True
            if self._last is last and workflow.now() >= last.until:
                return True
            last = self._last

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
        """Stores an accepted action: it ends the task, takes it on, or hands it over."""
        assert self._view is not None
        self._acting = True
        try:
            view = await self._store(APPLY_TASK_ACTION,
                                     ApplyActionInput(task_id=self._view.id, action=action))
            until = workflow.now() + UNDO_WINDOW
            if action.action in HAND_OVER:
                self._in_progress = False
                self._handovers += 1
                self._last = None
                self._assigned(view)
                assert self._input is not None
                self._held.append(asyncio.create_task(
                    self._message(self._input.step.template, f"handed/{self._handovers}")))
                return self._shown(view)
            if action.action == "acknowledge" and workflow.patched(IN_PROGRESS_PATCH):
                self._view = view
                self._in_progress = True
                self._last = _Last(action.action, action.actor_id, until)
                return self._shown(view)
            self._view = view
            # What the engine did (a `done_when` event) is no person's to undo.
            self._last = (None if action.actor_id == ENGINE_ACTOR
                          else _Last(action.action, action.actor_id, until))
            self._outcome = TaskOutcome(
                task_id=view.id,
                status=view.status,  # type: ignore[arg-type]
                actor_id=action.actor_id,
                comment=action.comment,
                escalation_level=view.escalation_level,
            )
            return self._shown(view)
        finally:
            self._acting = False

    async def _store(self, name: str, arg: Any) -> TaskView:
        """Runs a store activity for an update; its failure is the update's, typed."""
        try:
            return await workflow.execute_activity(
                name, arg, result_type=TaskView,
                start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY,
            )
        except (ActivityError, ApplicationError) as err:
            cause = err.cause if isinstance(err, ActivityError) else err
            message = cause.message if isinstance(cause, ApplicationError) else str(err)
            raise ApplicationError(message, type="TaskActionFailed") from err

    def _refuse_unless_open(self) -> TaskView:
        return refuse_unless_open(self._view, self._outcome is not None or self._acting)

    @act.validator
    def _validate_act(self, action: TaskAction) -> None:
        check_act(self._refuse_unless_open(), self._assignees, self._in_progress, action)

    @workflow.update(name=TASK_UNDO_UPDATE)
    async def undo(self, request: UndoRequest) -> TaskView:
        """Takes back the last action (acknowledge, complete, dismiss or snooze)."""
        assert self._view is not None and self._last is not None
        last, self._acting = self._last, True
        try:
            self._last = None
            if last.action == "snooze":
                self._snoozed_until = last.snoozed_until
                self._snoozes += 1
                return self._shown(self._view)
            view = await self._store(UNDO_TASK_ACTION,
                                     UndoInput(task_id=self._view.id, actor_id=request.actor_id))
            self._view = view
            self._outcome = None
            self._in_progress = view.status == "acknowledged"
            return self._shown(view)
        finally:
            self._acting = False

    @undo.validator
    def _validate_undo(self, request: UndoRequest) -> None:
        last = None if self._acting else self._last
        check_undo(self._view, last and last.actor_id, last.action if last else "",
                   last and last.until, workflow.now(), request.actor_id)

    @workflow.update(name=TASK_SNOOZE_UPDATE)
    def snooze(self, request: SnoozeRequest) -> TaskView:
        assert self._view is not None
        if not workflow.patched(SNOOZE_PATCH):
            raise ApplicationError("this task cannot be snoozed", type="InvalidAction")
        self._last = _Last("snooze", request.actor_id, workflow.now() + UNDO_WINDOW,
                           self._snoozed_until)
        self._snoozed_until = datetime.fromisoformat(request.until)
        self._snoozes += 1
        return self._shown(self._view)

    @snooze.validator
    def _validate_snooze(self, request: SnoozeRequest) -> None:
        check_snooze(self._refuse_unless_open(), request, workflow.now())

    @workflow.query(name=TASK_STATE_QUERY)
    def state(self) -> TaskView | None:
        return None if self._view is None else self._shown(self._view)

    def _shown(self, view: TaskView) -> TaskView:
        """The view with the snooze, while it lasts and the task is open, and the undo."""
        update: dict[str, Any] = {}
        last = self._last
        if last is not None and workflow.now() < last.until:
            update = {"undo_until": last.until.isoformat(), "undo_by": last.actor_id}
        until = self._snoozed_until
        if until is not None and self._outcome is None and until > workflow.now():
            update["snoozed_until"] = until.isoformat()
        return view.model_copy(update=update) if update else view

    def _assigned(self, view: TaskView) -> None:
        self._view = view
        if view.assignee_id not in self._assignees:
            self._assignees.append(view.assignee_id)
