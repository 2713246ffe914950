"""CREATE_TASK, ESCALATE_TASK, APPLY_TASK_ACTION: the Task row and its action log.

Each is safe to retry: a task is found by its unique key, an escalation by the level it sets,
an action by the status it leaves; the second attempt returns what the first one stored.
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
from wendu.store.models import Task, TaskAction
from wendu.workflows.io import (
    APPLY_TASK_ACTION,
    CREATE_TASK,
    ENGINE_ACTOR,
    ESCALATE_TASK,
    ApplyActionInput,
    CreateTaskInput,
    EscalateInput,
    TaskView,
)

FINISHED_STATUS = {"acknowledge": "acknowledged", "complete": "completed", "dismiss": "dismissed"}


def task_view(task: Task) -> TaskView:
    return TaskView(
        id=task.id,
        title=task.title,
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
        target = FINISHED_STATUS[act.action]
        with transaction(self.session_factory) as session:
            task = _task(session, inp.task_id)
            if task.status == target:
                last = session.scalars(
                    select(TaskAction)
                    .where(TaskAction.task_id == task.id)
                    .order_by(TaskAction.id.desc())
                    .limit(1)
                ).first()
                if last is not None and last.action == act.action and last.actor_id == act.actor_id:
                    return task_view(task)  # a retry of the attempt that stored it
            if task.status != "open":
                raise ApplicationError(
                    f"task {task.id} is already {task.status}",
                    type="TaskFinished",
                    non_retryable=True,
                )
            session.add(
                TaskAction(
                    task_id=task.id,
                    action=act.action,
                    actor_id=act.actor_id,
                    comment=act.comment,
                    from_status=task.status,
                    to_status=target,
                )
            )
            task.status = target
            task.closed_at = datetime.now(UTC)
            task.outcome_comment = act.comment
            return task_view(task)
