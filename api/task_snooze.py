"""POST /api/v1/tasks/{id}/snooze: the assignee puts a task's reminders and escalation off.

The same snooze as the console's: the task workflow's `snooze` update holds every reminder and
escalation due before the snooze ends (the task stays open, and still the assignee's), the
assignee's console lists it under "snoozed" until then, and it is audited, under the token's
name, with the employee it acted as. Only an open task is snoozed: one in progress
(acknowledged) has no reminders left to put off. The snooze can be taken back for a minute
with `POST .../undo`, as any action.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from wendu.api.deps import SessionFactoryDep, TemporalDep, TokenDep, act_as, require_scope
from wendu.api.snooze_rows import set_snooze
from wendu.api.tasks import _UNAVAILABLE, FINISHED, UPDATE_TIMEOUT, _refused
from wendu.store.audit import audit
from wendu.store.models import Task, utcnow
from wendu.workflows.io import TASK_SNOOZE_UPDATE, SnoozeRequest, TaskView

router = APIRouter(
    prefix="/api/v1/tasks", tags=["tasks"], dependencies=[Depends(require_scope("tasks:act"))]
)
MAX_SNOOZE = timedelta(days=14)  # as long as the console offers
_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The actor is not the task's assignee"},
    404: {"description": "No such task"},
    409: {"description": "The task is in progress or finished: nothing left to put off"},
    422: {"description": "Neither or both of `hours` and `until`, or a time past, or more "
                         "than 14 days ahead"},
    503: {"description": "The engine did not answer in time; the snooze may still apply"},
}


class SnoozeIn(BaseModel):
    actor_id: str = Field(min_length=1, max_length=64, description="The assignee's employee id")
    hours: Annotated[float | None, Field(gt=0, le=MAX_SNOOZE.days * 24)] = Field(
        None, description="For this many hours from now", examples=[24])
    until: AwareDatetime | None = Field(
        None, description="Or until this time (with its UTC offset)",
        examples=["2026-06-16T09:00:00+08:00"])

    @model_validator(mode="after")
    def _one_end(self) -> SnoozeIn:
        if (self.hours is None) == (self.until is None):
            raise ValueError("give either hours or until")
        return self

    def end(self, now: datetime) -> datetime:
        until = now + timedelta(hours=self.hours) if self.hours is not None else self.until
        assert until is not None
        if until <= now:
            raise _invalid(f"until: {until.isoformat()} has passed")
        if until > now + MAX_SNOOZE:
            raise _invalid("until: at most 14 days ahead")
        return until.astimezone(UTC)


@router.post("/{task_id}/snooze", response_model=TaskView, responses=_RESPONSES)
async def snooze_task(task_id: str, body: SnoozeIn, request: Request, factory: SessionFactoryDep,
                      temporal: TemporalDep, token: TokenDep) -> TaskView:
    """Snooze an open task as its assignee `actor_id`, for `hours` or `until` a time: its
    reminders and escalation wait until then; it stays open and the assignee's."""
    act_as(token, body.actor_id)
    task = await asyncio.to_thread(_load, factory, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id!r}")
    if task.assignee_id != body.actor_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"only {task.assignee_id}, the assignee, snoozes task {task_id}")
    if task.status in FINISHED:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"task {task_id} is already {task.status}")
    if task.status != "open":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"task {task_id} is in progress: "
                            "it has no reminders left to put off")
    until = body.end(utcnow())
    view = await snooze_workflow(temporal, task, body.actor_id, until)
    ip = request.client.host if request.client else None
    await asyncio.to_thread(_record, factory, task, f"token:{token.name}", body.actor_id, until,
                            ip)
    return view


async def snooze_workflow(temporal: Client, task: Task, actor_id: str,
                          until: datetime) -> TaskView:
    """The workflow's `snooze` update; its refusals as the HTTP errors they mean."""
    handle = temporal.get_workflow_handle(task.workflow_id or f"task/{task.id}")
    try:
        return await handle.execute_update(
            TASK_SNOOZE_UPDATE, SnoozeRequest(actor_id=actor_id, until=until.isoformat()),
            result_type=TaskView, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as exc:
        raise _refused(task.id, exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                detail=f"task {task.id} is finished") from None
        if exc.status in _UNAVAILABLE:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                detail="the workflow engine did not answer in time; check the "
                                       "task before retrying") from None
        raise


def _load(factory: sessionmaker[Session], task_id: str) -> Task | None:
    with factory() as session:
        return session.get(Task, task_id)


def _record(factory: sessionmaker[Session], task: Task, actor: str, actor_id: str,
            until: datetime, ip: str | None) -> None:
    """The snooze in the assignee's console lists and in the audit log, in one transaction."""
    with factory.begin() as session:
        earlier = set_snooze(session, task.id, actor_id, until)
        audit(session, actor, "task.snooze", "task", task.id,
              before={"status": task.status,
                      "snoozed_until": earlier.isoformat() if earlier else None},
              after={"status": task.status, "snoozed_until": until.isoformat(),
                     "reminders_postponed": True, "actor_id": actor_id},
              ip=ip)


def _invalid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=message)
