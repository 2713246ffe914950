"""CREATE_TASK, ESCALATE_TASK, APPLY_TASK_ACTION, UNDO_TASK_ACTION: the Task row and its log.

Each is safe to retry: a task is found by its unique key, an escalation by the level it sets,
an action by the last row of the log; the second attempt returns what the first one stored.

Acknowledging leaves the task open ("acknowledged": in progress); only completing or
dismissing closes it. Delegating or reassigning hands it to another active employee and makes
it open again: the new assignee has not said they are on it. Undo puts back the status the
actor's last action left, and is logged as an action of its own.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wendu.activities.people import resolve_one
from wendu.store.db import transaction
from wendu.store.models import Employee, Task, TaskAction
from wendu.workflows.io import (
    APPLY_TASK_ACTION,
    CREATE_TASK,
    ENGINE_ACTOR,
    ESCALATE_TASK,
    UNDO_TASK_ACTION,
    ApplyActionInput,
    CreateTaskInput,
    EscalateInput,
    TaskView,
    UndoInput,
)

# The status each action leaves, and the statuses it may start from.
TARGET_STATUS = {"acknowledge": "acknowledged", "complete": "completed", "dismiss": "dismissed",
                 "delegate": "open", "reassign": "open"}
ACTIVE = ("open", "acknowledged")
FROM_STATUS = {"acknowledge": ("open",)}
CLOSED = ("completed", "dismissed")
UNDOABLE = ("acknowledge", "complete", "dismiss")


def task_view(task: Task) -> TaskView:
    return TaskView(
        id=task.id,
        title=task.title,
        titles=task.titles or None,
        status=task.status,  # type: ignore[arg-type]
        assignee_id=task.assignee_id,
        assignee_role=task.assignee_role,
        escalation_level=task.escalation_level,
        due_at=task.due_at.isoformat(),
        rule_id=task.rule_id,
        subject_employee_id=task.subject_employee_id,
        comment=task.outcome_comment,
    )


def _parse(ts: str) -> datetime:
    value = datetime.fromisoformat(ts)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _task(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise ApplicationError(f"task {task_id} not found", type="TaskNotFound", non_retryable=True)
    return task


class TaskActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    @activity.defn(name=CREATE_TASK)
    async def create_task(self, inp: CreateTaskInput) -> TaskView:
        return await asyncio.to_thread(self._create, inp)

    @activity.defn(name=ESCALATE_TASK)
    async def escalate_task(self, inp: EscalateInput) -> TaskView:
        """Moves an open task to the role's person; unchanged (same level) if the role is empty."""
        return await asyncio.to_thread(self._escalate, inp)

    @activity.defn(name=APPLY_TASK_ACTION)
    async def apply_task_action(self, inp: ApplyActionInput) -> TaskView:
        return await asyncio.to_thread(self._apply, inp)

    @activity.defn(name=UNDO_TASK_ACTION)
    async def undo_task_action(self, inp: UndoInput) -> TaskView:
        return await asyncio.to_thread(self._undo, inp)

    def _create(self, inp: CreateTaskInput) -> TaskView:
        t = inp.task
        with self.session_factory() as session:
            existing = session.scalar(select(Task).where(Task.key == t.task_key))
            if existing is not None:
                return task_view(existing)
            role = t.step.assignee.role
            person, reason = resolve_one(session, t.subject_employee_id, role)
        if person is None:
            raise ApplicationError(
                f"task {t.task_id} ({t.step.at or t.step.id}): nobody to assign: {reason}",
                type="NoAssignee",
                non_retryable=True,
            )
        row = Task(
            id=t.task_id,
            key=t.task_key,
            workflow_id=inp.workflow_id,
            parent_workflow_id=t.parent_workflow_id,
            rule_id=t.rule_id,
            subject_employee_id=t.subject_employee_id,
            assignee_id=person.id,
            assignee_role=role,
            title=t.title[:500],
            titles={k: v[:500] for k, v in t.titles.items()} or None,
            status="open",
            escalation_level=0,
            due_at=_parse(inp.due_at),
        )
        try:
            with transaction(self.session_factory) as session:
                session.add(row)
        except IntegrityError:
            # A concurrent attempt stored it first.
            with self.session_factory() as session:
                return task_view(session.scalars(select(Task).where(Task.key == t.task_key)).one())
        return task_view(row)

    def _escalate(self, inp: EscalateInput) -> TaskView:
        with transaction(self.session_factory) as session:
            task = _task(session, inp.task_id)
            if task.status != "open" or task.escalation_level >= inp.level:
                return task_view(task)  # finished meanwhile, or this retry already applied
            person, reason = resolve_one(session, inp.subject_employee_id, inp.role)
            if person is None:
                activity.logger.warning("task %s: cannot escalate to %s", task.id, reason)
                return task_view(task)
            session.add(
                TaskAction(
                    task_id=task.id,
                    action="escalate",
                    actor_id=ENGINE_ACTOR,
                    comment=f"{task.assignee_id} -> {person.id} ({inp.role}), level {inp.level}",
                    from_status=task.status,
                    to_status=task.status,
                )
            )
            task.assignee_id = person.id
            task.assignee_role = inp.role
            task.escalation_level = inp.level
            task.due_at = _parse(inp.due_at)
            return task_view(task)

    def _apply(self, inp: ApplyActionInput) -> TaskView:
        act = inp.action
        target = TARGET_STATUS[act.action]
        with transaction(self.session_factory) as session:
            task = _task(session, inp.task_id)
            last = _last_action(session, task.id)
            if (last is not None and last.action == act.action and last.actor_id == act.actor_id
                    and task.status == target
                    and (act.to_id is None or task.assignee_id == act.to_id)):
                return task_view(task)  # a retry of the attempt that stored it
            if task.status not in FROM_STATUS.get(act.action, ACTIVE):
                raise ApplicationError(
                    f"task {task.id} is already {task.status}",
                    type="TaskFinished",
                    non_retryable=True,
                )
            comment = act.comment
            if act.action in ("delegate", "reassign"):
                comment = f"{task.assignee_id} -> {act.to_id}: {act.comment or ''}".strip()
                _hand_over(session, task, act.action, act.to_id or "")
            session.add(TaskAction(task_id=task.id, action=act.action, actor_id=act.actor_id,
                                   comment=comment, from_status=task.status, to_status=target))
            task.status = target
            if target in CLOSED:
                task.closed_at = datetime.now(UTC)
                task.outcome_comment = act.comment
            return task_view(task)

    def _undo(self, inp: UndoInput) -> TaskView:
        with transaction(self.session_factory) as session:
            task = _task(session, inp.task_id)
            last = _last_action(session, task.id)
            if last is not None and last.action == "undo" and last.actor_id == inp.actor_id:
                return task_view(task)  # a retry of the attempt that stored it
            if last is None or last.action not in UNDOABLE or last.actor_id != inp.actor_id:
                raise ApplicationError(f"task {task.id}: nothing of {inp.actor_id}'s to undo",
                                       type="InvalidAction", non_retryable=True)
            session.add(TaskAction(task_id=task.id, action="undo", actor_id=inp.actor_id,
                                   comment=f"undo {last.action}", from_status=task.status,
                                   to_status=last.from_status))
            task.status = last.from_status
            task.closed_at = None
            task.outcome_comment = None
            return task_view(task)


def _last_action(session: Session, task_id: str) -> TaskAction | None:
    return session.scalars(
        select(TaskAction).where(TaskAction.task_id == task_id)
        .order_by(TaskAction.id.desc()).limit(1)
    ).first()


def _hand_over(session: Session, task: Task, action: str, to_id: str) -> None:
    """Moves the task to `to_id`, who must be an active employee (the log keeps who had it)."""
    person = session.get(Employee, to_id)
    if person is None or not person.active:
        raise ApplicationError(f"to_id: {to_id!r} is no active employee", type="InvalidAction",
                               non_retryable=True)
    task.assignee_id = person.id
    task.assignee_role = "delegate" if action == "delegate" else "reassigned"
