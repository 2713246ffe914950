"""A TaskWorkflow's clock: reminders before the due time, escalation after it, and how its
messages go out (now, or held until the assignee's quiet hours end).

Due times and reminders count working days (rules.workdays: the China calendar with its
holidays and make-up workdays, by default): "due in 3 days" set before National Day is due
after it, and a reminder "1 day before" a Monday due time comes on the Friday. The calendar is
read in a local activity, whose answer history records, so replay never consults it again;
workflows recorded before the `task-working-days` patch keep counting calendar days.

A mixin of TaskWorkflow, kept apart so the task's states and actions, and its timers and
messages, each read on their own. Every timer also ends as soon as the task is finished or
taken on ("I'm on it"), and holds still while an action is being stored. Quiet hours hold
every task message (the assignment, reminders, escalations, a hand-over) until the
recipient's night ends, but never the task itself: a held message waits on a timer of its own
while the due time and the escalation run on at their hour. A message still held when
the task is finished, taken on, or has moved on to someone else, is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from wendu.workflows.io import (
        ESCALATE_TASK,
        NOTIFY_TASK,
        WORKING_TIME,
        EscalateInput,
        NotifyInput,
        NotifyResult,
        ReachInput,
        TaskInput,
        TaskOutcome,
        TaskView,
        WorkingTimeInput,
        WorkingTimeResult,
    )
    from wendu.workflows.policy import REACH_RETRY, REACH_TIMEOUT, reach

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
# Reminders and escalation messages wait out quiet hours too, without holding the task up.
QUIET_HOURS_PATCH = "task-quiet-hours"
# Due times and reminders in working days; recorded before it, in calendar days.
WORKING_DAYS_PATCH = "task-working-days"


class TaskTiming:
    """The timers and messages of TaskWorkflow, over the state it keeps."""

    _input: TaskInput | None
    _view: TaskView | None
    _outcome: TaskOutcome | None
    _held: list[asyncio.Task[None]]
    _acting: bool
    _in_progress: bool
    _snoozed_until: datetime | None
    _snoozes: int
    # Reminder times counted in working days, by the due time they lead up to.
    _remind_at: dict[datetime, list[datetime]]

    def _assigned(self, view: TaskView) -> None:
        raise NotImplementedError

    async def _remind_until_due(self) -> bool:
        """Reminds before the current due time, then waits for it; True if finished or taken
        on first."""
        assert self._view is not None and self._input is not None
        level = self._view.escalation_level
        due = datetime.fromisoformat(self._view.due_at)
        offsets = sorted(self._input.step.reminders_seconds, reverse=True)
        counted = self._remind_at.get(due)
        for index, offset in enumerate(offsets):
            at = counted[index] if counted else due - timedelta(seconds=offset)
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
        due = await self._due_after(self._input.step.due_seconds)
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
        if self._outcome is not None or self._in_progress:
            return True  # acted on meanwhile; the action's view is the newer one
        if view.escalation_level <= level:
            workflow.logger.warning("task %s: %s names nobody, not escalated", view.id, role)
            return False
        self._assigned(view)
        await self._message("task_escalated", f"escalated/{view.escalation_level}")
        return True

    async def _due_after(self, seconds: int) -> datetime:
        """The due time `seconds` from now, in working days (calendar days before the
        `task-working-days` patch); its reminders are kept in `_remind_at`."""
        assert self._input is not None
        now = workflow.now()
        if not workflow.patched(WORKING_DAYS_PATCH):
            return now + timedelta(seconds=seconds)
        offsets = sorted(self._input.step.reminders_seconds, reverse=True)
        found = await workflow.execute_local_activity(
            WORKING_TIME,
            WorkingTimeInput(start=now.isoformat(), seconds=seconds, before=offsets),
            result_type=WorkingTimeResult,
            start_to_close_timeout=REACH_TIMEOUT,
            retry_policy=REACH_RETRY,
        )
        due = datetime.fromisoformat(found.due_at)
        self._remind_at[due] = [datetime.fromisoformat(at) for at in found.remind_at]
        return due

    async def _until(self, at: datetime) -> bool:
        """Sleeps until `at` (or the snooze's end, if later); True as soon as the task is
        finished or taken on."""
        while self._outcome is None and not self._in_progress:
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
                        or self._in_progress
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
