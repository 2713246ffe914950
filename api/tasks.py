"""Tasks managers act on: listed from the store, acted on through their TaskWorkflow.

An action goes to the workflow as the `act` update: its validator refuses a bad action before
anything is recorded, so a refused action changes nothing, and an accepted one is stored and
ends the task's timers in one step.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from wendu.api.deps import SessionDep, SessionFactoryDep, TemporalDep, require_scope
from wendu.api.input_limits import Offset
from wendu.store.models import Task
from wendu.workflows.io import TASK_ACT_UPDATE, TaskAction, TaskView

router = APIRouter(
    prefix="/api/v1/tasks", tags=["tasks"], dependencies=[Depends(require_scope("tasks:act"))]
)

FINISHED = {"completed", "dismissed"}
# Long enough for the worker to store the action; the workflow itself never blocks longer.
UPDATE_TIMEOUT = timedelta(seconds=30)
_UNAVAILABLE = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.CANCELLED)
TaskStatus = Literal["open", "acknowledged", "completed", "dismissed"]


class TaskOut(BaseModel):
    id: str
    title: str
    body: str
    status: TaskStatus
    assignee_id: str
    assignee_role: str
    escalation_level: int
    due_at: datetime
    rule_id: str | None
    subject_employee_id: str | None
    created_at: datetime
    closed_at: datetime | None
    comment: str | None


def _out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id, title=task.title, body=task.body, status=task.status,  # type: ignore[arg-type]
        assignee_id=task.assignee_id, assignee_role=task.assignee_role,
        escalation_level=task.escalation_level, due_at=task.due_at, rule_id=task.rule_id,
        subject_employee_id=task.subject_employee_id, created_at=task.created_at,
        closed_at=task.closed_at, comment=task.outcome_comment,
    )


@router.get("", response_model=list[TaskOut])
def list_tasks(
    session: SessionDep,
    assignee: str | None = None,
    status_: Annotated[TaskStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[TaskOut]:
    """Tasks, most urgent first; filter by assignee (employee id) and status."""
    q = select(Task)
    if assignee:
        q = q.where(Task.assignee_id == assignee)
    if status_:
        q = q.where(Task.status == status_)
    q = q.order_by(Task.due_at, Task.id).limit(limit).offset(offset)
    return [_out(t) for t in session.scalars(q)]


@router.get("/{task_id}", response_model=TaskOut)
def get_task(task_id: str, session: SessionDep) -> TaskOut:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id!r}")
    return _out(task)


@router.post(
    "/{task_id}/actions",
    response_model=TaskView,
    responses={
        403: {"description": "The actor is not (and was not) assigned this task"},
        404: {"description": "No such task"},
        409: {"description": "The task is finished already"},
        422: {"description": "The action was refused (e.g. complete without a comment)"},
        503: {"description": "The engine did not answer in time; the action may still apply"},
    },
)
async def act_on_task(
    task_id: str, action: TaskAction, factory: SessionFactoryDep, temporal: TemporalDep
) -> TaskView:
    """Acknowledge, complete or dismiss a task as `actor_id`."""
    return await apply_action(factory, temporal, task_id, action)


async def apply_action(
    factory: sessionmaker[Session], temporal: Client, task_id: str, action: TaskAction
) -> TaskView:
    """The one path every task action takes (API and console): the workflow's `act` update.

    Raises HTTPException with the status the refusal means."""
    task = await asyncio.to_thread(_load, factory, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id!r}")
    if task.status in FINISHED:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"task {task_id} is already {task.status}"
        )
    handle = temporal.get_workflow_handle(task.workflow_id or f"task/{task_id}")
    try:
        return await handle.execute_update(
            TASK_ACT_UPDATE, action, result_type=TaskView, rpc_timeout=UPDATE_TIMEOUT
        )
    except WorkflowUpdateFailedError as exc:
        raise _refused(task_id, exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow ended (finished or was terminated) after our read of the store.
            raise HTTPException(
                status.HTTP_409_CONFLICT, detail=f"task {task_id} is finished"
            ) from None
        if exc.status in _UNAVAILABLE:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="the workflow engine did not answer in time; check the task before retrying",
            ) from None
        raise


def _load(factory: sessionmaker[Session], task_id: str) -> Task | None:
    with factory() as session:
        return session.get(Task, task_id)


def _refused(task_id: str, exc: WorkflowUpdateFailedError) -> HTTPException:
    cause = exc.cause
    message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
    kind = cause.type if isinstance(cause, ApplicationError) else ""
    code = _REFUSALS.get(kind, status.HTTP_422_UNPROCESSABLE_CONTENT)
    return HTTPException(code, detail=message)


# The task workflow's refusal types and what they mean over HTTP.
_REFUSALS = {
    "TaskNotReady": status.HTTP_503_SERVICE_UNAVAILABLE,
    "TaskFinished": status.HTTP_409_CONFLICT,
    "NotAssignee": status.HTTP_403_FORBIDDEN,
    "InvalidAction": status.HTTP_422_UNPROCESSABLE_CONTENT,
}
