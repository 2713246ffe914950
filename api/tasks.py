"""Tasks managers act on: listed from the store, acted on through their TaskWorkflow.

An action goes to the workflow as the `act` update: its validator refuses a bad action before
anything is recorded, so a refused action changes nothing, and an accepted one is stored and
ends the task's timers in one step. `acknowledge` means "I'm on it": the task stays open
("acknowledged", in progress) until it is completed or dismissed; `delegate` and `reassign`
hand it to `to_id` with a comment. The last action can be taken back by its actor for a
minute (`POST .../undo`). An unbound `tasks:act` token acts as the `actor_id` it names; one
bound to an actor (`wendu tokens create --actor`) sees and acts on only that person's tasks
(403 otherwise). The console lets only HR reassign.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from wendu.api.deps import (
    SessionDep,
    SessionFactoryDep,
    TemporalDep,
    TokenDep,
    act_as,
    require_scope,
)
from wendu.api.input_limits import Offset
from wendu.api.snooze_rows import follow_workflow
from wendu.store.models import Employee, Task
from wendu.titles import locale_key, title_in
from wendu.workflows.io import (
    TASK_ACT_UPDATE,
    TASK_UNDO_UPDATE,
    TaskAction,
    TaskView,
    UndoRequest,
)

router = APIRouter(
    prefix="/api/v1/tasks", tags=["tasks"], dependencies=[Depends(require_scope("tasks:act"))]
)

FINISHED = {"completed", "dismissed"}
# Long enough for the worker to store the action; the workflow itself never blocks longer.
UPDATE_TIMEOUT = timedelta(seconds=30)
_UNAVAILABLE = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.CANCELLED)
# acknowledged: in progress (the assignee is on it); completed and dismissed: done.
TaskStatus = Literal["open", "acknowledged", "completed", "dismissed"]
_ACT_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The actor is not (and was not) assigned this task"},
    404: {"description": "No such task"},
    409: {"description": "The task is finished already"},
    422: {"description": "The action was refused (e.g. complete without a comment)"},
    503: {"description": "The engine did not answer in time; the action may still apply"},
}


LocaleQuery = Annotated[Literal["zh-CN", "en"] | None, Query(
    description="The language of `title` (zh-CN or en)")]


class TaskOut(BaseModel):
    id: str
    title: str = Field(description="In the requested `locale` (else Accept-Language, else the "
                       "assignee's language)")
    titles: dict[str, str] = Field(description='The title per locale: {"zh-CN": ..., "en": ...}')
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


def _out(task: Task, locale: str | None) -> TaskOut:
    titles = {key: title_in(task.title, task.titles, key) for key in ("zh-CN", "en")}
    return TaskOut(
        id=task.id, title=titles[locale_key(locale)], titles=titles, body=task.body,
        status=task.status,  # type: ignore[arg-type]
        assignee_id=task.assignee_id, assignee_role=task.assignee_role,
        escalation_level=task.escalation_level, due_at=task.due_at, rule_id=task.rule_id,
        subject_employee_id=task.subject_employee_id, created_at=task.created_at,
        closed_at=task.closed_at, comment=task.outcome_comment,
    )


@router.get("", response_model=list[TaskOut])
def list_tasks(
    session: SessionDep,
    token: TokenDep,
    assignee: str | None = None,
    status_: Annotated[TaskStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    locale: LocaleQuery = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> list[TaskOut]:
    """Tasks, most urgent first; filter by assignee (employee id) and status. `title` is in
    `locale` (zh-CN or en), else the Accept-Language header's, else the assignee's."""
    if token.actor_id is not None:
        act_as(token, assignee or token.actor_id)
        assignee = token.actor_id
    q = select(Task)
    if assignee:
        q = q.where(Task.assignee_id == assignee)
    if status_:
        q = q.where(Task.status == status_)
    q = q.order_by(Task.due_at, Task.id).limit(limit).offset(offset)
    tasks = list(session.scalars(q))
    asked = locale or _accepted(accept_language)
    readers = {} if asked else _locales(session, {t.assignee_id for t in tasks})
    return [_out(t, asked or readers.get(t.assignee_id)) for t in tasks]


@router.get("/{task_id}", response_model=TaskOut)
def get_task(task_id: str, session: SessionDep, token: TokenDep, locale: LocaleQuery = None,
             accept_language: Annotated[str | None, Header(max_length=200)] = None) -> TaskOut:
    """One task; `title` in `locale`, else the Accept-Language header's, else the
    assignee's language."""
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id!r}")
    act_as(token, task.assignee_id)
    asked = locale or _accepted(accept_language)
    return _out(task, asked or _locales(session, {task.assignee_id}).get(task.assignee_id))


def _accepted(header: str | None) -> str | None:
    """The first language of an Accept-Language header ("en-GB,en;q=0.9" -> en-GB)."""
    first = (header or "").split(",")[0].split(";")[0].strip()
    return first if first and first != "*" else None


def _locales(session: Session, ids: set[str]) -> dict[str, str]:
    return dict(session.execute(select(Employee.id, Employee.locale).where(
        Employee.id.in_(ids))).all()) if ids else {}


@router.post("/{task_id}/actions", response_model=TaskView, responses=_ACT_RESPONSES)
async def act_on_task(
    task_id: str, action: TaskAction, factory: SessionFactoryDep, temporal: TemporalDep,
    token: TokenDep,
) -> TaskView:
    """Acknowledge ("I'm on it"), complete, dismiss, delegate or reassign a task as
    `actor_id`; delegate and reassign name the new assignee in `to_id`."""
    act_as(token, action.actor_id)
    if action.by_hr:  # who is HR is the console's to know, from the signed-in account
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="by_hr: HR acts on others' tasks in the console")
    return await apply_action(factory, temporal, task_id, action)


@router.post("/{task_id}/undo", response_model=TaskView, responses=_ACT_RESPONSES)
async def undo_task_action(
    task_id: str, request: UndoRequest, factory: SessionFactoryDep, temporal: TemporalDep,
    token: TokenDep,
) -> TaskView:
    """Takes back `actor_id`'s last action on the task (acknowledge, complete, dismiss or
    snooze) within a minute of it: the task is as it was before."""
    act_as(token, request.actor_id)
    view = await apply_action(factory, temporal, task_id, request)
    await asyncio.to_thread(follow_workflow, factory, task_id, request.actor_id, view)
    return view


async def apply_action(
    factory: sessionmaker[Session], temporal: Client, task_id: str,
    action: TaskAction | UndoRequest,
) -> TaskView:
    """The one path every task action takes (API, console, WeCom): the workflow's `act`
    update (`undo` for an UndoRequest).

    Raises HTTPException with the status the refusal means."""
    task = await asyncio.to_thread(_load, factory, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id!r}")
    undo = isinstance(action, UndoRequest)
    if task.status in FINISHED and not undo:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"task {task_id} is already {task.status}"
        )
    if isinstance(action, TaskAction) and action.to_id is not None:
        await asyncio.to_thread(_check_assignable, factory, action.to_id)
    handle = temporal.get_workflow_handle(task.workflow_id or f"task/{task_id}")
    try:
        return await handle.execute_update(
            TASK_UNDO_UPDATE if undo else TASK_ACT_UPDATE, action, result_type=TaskView,
            rpc_timeout=UPDATE_TIMEOUT,
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


def _check_assignable(factory: sessionmaker[Session], employee_id: str) -> None:
    with factory() as session:
        person = session.get(Employee, employee_id)
    if person is None or not person.active:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail=f"to_id: {employee_id!r} is no active employee")


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
