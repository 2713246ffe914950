"""My tasks and the Inbox: pages, and the console JSON routes their buttons call.

A task action from the console takes the same path as POST /api/v1/tasks/{id}/actions (the
task workflow's `act` update), as the signed-in user's employee id; the workflow remains the
judge of whether that person may act, the console only decides what they may see. A snooze
moves the task to the assignee's snoozed list and, through the workflow's `snooze` update,
holds its reminders and escalation until the snooze ends. "My tasks" has four lists (open,
in progress, snoozed, done; see web_task_lists.py) and offers to undo the user's last action
for a minute. Only HR reassigns a task; its assignee delegates it; both with a comment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from wendu.api.deps import SessionDep
from wendu.api.input_limits import RowId
from wendu.api.tasks import UPDATE_TIMEOUT, _refused, apply_action
from wendu.api.web_access import check_notification, check_task, forbidden, mine, task_scope
from wendu.api.web_accounts import SessionUser, audit
from wendu.api.web_auth import ApiPostingUser, ApiUser, CurrentUser, client_ip
from wendu.api.web_local import names_for
from wendu.api.web_privacy import why_for
from wendu.api.web_task_lists import TaskList, list_of, my_lists, people, undo_offer
from wendu.api.web_task_words import refusal
from wendu.api.web_ui import lang_of, page
from wendu.labels import catalog, factor_label, label
from wendu.localize import DEFAULT_TIMEZONE, format_datetime
from wendu.store.models import Employee, Firing, Notification, ScoreRecord, Task, utcnow
from wendu.store.models_accounts import TaskSnooze
from wendu.workflows.io import (
    TASK_SNOOZE_UPDATE,
    SnoozeRequest,
    TaskAction,
    TaskView,
    UndoRequest,
)

router = APIRouter(tags=["console"])
MAX_SNOOZE_HOURS = 24 * 14


class ConsoleAction(BaseModel):
    action: Literal["acknowledge", "complete", "dismiss", "snooze", "delegate", "reassign",
                    "undo"]
    comment: str | None = Field(default=None, max_length=5000)
    to_id: str | None = Field(default=None, max_length=64)
    hours: Annotated[float, Field(gt=0, le=MAX_SNOOZE_HOURS)] = 24


def task_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.id, "title": task.title, "titles": task.titles, "body": task.body,
        "status": task.status,
        "assignee_id": task.assignee_id, "subject_employee_id": task.subject_employee_id,
        "rule_id": task.rule_id, "escalation_level": task.escalation_level,
        "due_at": task.due_at.isoformat(), "created_at": task.created_at.isoformat(),
        "list": list_of(task),
    }


def why(session: Session, tasks: list[Task], user: SessionUser) -> dict[str, dict[str, Any]]:
    """task id -> the rule's matched conditions and values, and the scores with factors, as
    `user` may see them (pay and origin are HR's: web_privacy.py)."""
    wf_ids = {t.parent_workflow_id for t in tasks}
    if not wf_ids:
        return {}
    firings = {f.workflow_id: f for f in session.scalars(
        select(Firing).where(Firing.workflow_id.in_(wf_ids)))}
    scores: dict[str, list[ScoreRecord]] = {}
    for s in session.scalars(select(ScoreRecord).where(ScoreRecord.workflow_id.in_(wf_ids))):
        scores.setdefault(s.workflow_id, []).append(s)
    out = {}
    for t in tasks:
        f = firings.get(t.parent_workflow_id)
        info = ((f.context or {}).get("firing") or {}) if f else {}
        out[t.id] = why_for(user, {
            "rule": t.rule_id, "matched": info.get("matched") or [],
            "title": (((f.context or {}).get("plan") or {}).get("title") or {}) if f else {},
            "values": info.get("values") or {},
            "scores": [{"scorer": s.scorer, "value": round(s.value, 3), "label": s.label,
                        "factors": s.factors or []}
                       for s in scores.get(t.parent_workflow_id, [])],
        })
    return out


@router.get("/console/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, user: CurrentUser, session: SessionDep,
               which: Annotated[TaskList, Query(alias="list")] = "open",
               fragment: bool = False) -> HTMLResponse:
    name = "_tasks.html" if fragment else "tasks.html"
    lang = lang_of(request, user)
    lists = my_lists(session, user, which)
    shown = [*lists["todo"], *([lists["undo"]["task"]] if lists["undo"] else [])]
    return page(request, name, user, **lists, why=why(session, lists["todo"], user),
                people=people(session), names=names_for(
                    session, [i for t in shown for i in (t.subject_employee_id, t.assignee_id)]),
                factor_name=lambda key, scorer: factor_label(key, scorer, lang))


# The task page's own words; the shared ones come from the console's `t`.
TASK_PAGE_WORDS = {
    "zh-CN": {"status": "状态", "assignee": "负责人", "open": "待处理", "acknowledged": "处理中",
              "completed": "已完成", "dismissed": "已关闭", "all_tasks": "返回我的任务",
              "no_body": "这项任务没有更多说明。"},
    "en": {"status": "Status", "assignee": "Assignee", "open": "Open",
           "acknowledged": "In progress", "completed": "Completed", "dismissed": "Dismissed",
           "all_tasks": "Back to my tasks", "no_body": "This task has no further description."},
}


@router.get("/console/tasks/{task_id}", response_class=HTMLResponse)
def task_page(task_id: Annotated[str, FastPath(max_length=128)], request: Request,
              user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """One task, where a message's link lands (after sign-in): what to do, in full, why,
    and its buttons while it is open. 404 for a task the user may not see."""
    task = check_task(session, user, task_id)
    lang = "en" if lang_of(request, user) == "en" else "zh-CN"
    me = session.get(Employee, user.employee_id) if user.employee_id else None
    timezone = (me.timezone if me is not None else None) or DEFAULT_TIMEZONE
    names = {i: e for i, e in session.execute(select(Employee.id, Employee.name).where(
        Employee.id.in_([task.assignee_id, task.subject_employee_id])))}
    snooze = session.get(TaskSnooze, (task.id, user.id))
    snoozes = {task.id: snooze.until} if snooze is not None and snooze.until > utcnow() else {}
    return page(request, "task.html", user, task=task, why=why(session, [task], user), now=utcnow(),
                people=people(session), undo=None, snoozes=snoozes,
                words=TASK_PAGE_WORDS[lang], names=names,
                due=format_datetime(task.due_at, lang, timezone),
                label=lambda key, kind: label(key, kind, lang),
                factor_name=lambda key, scorer: factor_label(key, scorer, lang))


@router.get("/console/api/labels")
def labels(user: ApiUser, locale: str | None = None) -> dict[str, dict[str, str]]:
    """The display names of topics, sentiments, review dimensions, scorecard metrics and
    labels, risk levels, intents and profile facts, in `locale` (default: the user's)."""
    return catalog(locale or user.locale)


@router.get("/console/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, user: CurrentUser, session: SessionDep,
               fragment: bool = False) -> HTMLResponse:
    q = select(Notification).where(mine(Notification.recipient_id, user),
                                   Notification.channel == "inapp")
    items = session.scalars(
        q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(200)).all()
    return page(request, "_inbox.html" if fragment else "inbox.html", user, items=items)


# --- the console's JSON routes -------------------------------------------------------------


@router.get("/console/api/tasks")
def list_tasks(user: ApiUser, session: SessionDep, status: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    """The tasks the user may see (HR: all; manager: theirs and their reports'; employee:
    their own), most urgent first."""
    q = select(Task)
    scope = task_scope(session, user)
    if scope is not None:
        q = q.where(scope)
    if status:
        q = q.where(Task.status == status)
    return [task_dict(t) for t in session.scalars(
        q.order_by(Task.due_at, Task.id).limit(min(max(limit, 1), 500)))]


@router.get("/console/api/tasks/{task_id}")
def get_task(task_id: str, user: ApiUser, session: SessionDep) -> dict[str, Any]:
    task = check_task(session, user, task_id)
    return {**task_dict(task), "why": why(session, [task], user)[task.id]}


@router.post("/console/api/tasks/{task_id}/actions")
async def act(task_id: str, body: ConsoleAction, request: Request, user: ApiPostingUser,
              session: SessionDep) -> dict[str, Any]:
    """Acknowledge ("I'm on it"), complete (with a comment), dismiss (with a reason), snooze,
    delegate or reassign (to `to_id`, with a comment) a task, or undo the last action.
    A refusal is said in the reader's language: the console shows it as it comes."""
    task = check_task(session, user, task_id)
    try:
        return await act_on(request, user, session, task, body)
    except HTTPException as exc:
        raise HTTPException(exc.status_code, detail=refusal(exc.detail, lang_of(request, user)),
                            headers=exc.headers) from None


async def act_on(request: Request, user: SessionUser, session: Session, task: Task,
                 body: ConsoleAction, note: str | None = None) -> dict[str, Any]:
    """One task action, as the console takes it (a button, or each task of HR's bulk action:
    `note` says so in its audit record): the workflow's update, then the audit record."""
    task_id = task.id
    before: dict[str, Any] = {"status": task.status}
    if not user.employee_id:
        raise forbidden("acting on tasks needs an account linked to an employee")
    if body.action == "snooze":
        return await _snooze(request, user, session, task, body.hours, before)
    if body.action == "undo":
        return await _undo(request, user, session, task)
    if body.action == "reassign" and not user.is_hr:
        raise forbidden("only HR reassigns a task; its assignee may delegate it")
    handover = body.action in ("delegate", "reassign")
    if handover:
        before["assignee_id"] = task.assignee_id
    session.rollback()  # release the read before the workflow writes the same rows
    view = await apply_action(
        request.app.state.session_factory, request.app.state.temporal, task_id,
        TaskAction(action=body.action, actor_id=user.employee_id, comment=body.comment,
                   to_id=body.to_id,
                   by_hr=user.is_hr and body.action in ("acknowledge", "dismiss")),
    )
    after = {"status": view.status, "comment": body.comment}
    if handover:
        after["assignee_id"] = view.assignee_id
    audit(session, user.username, f"task.{body.action}", "task", task_id, before=before,
          after=after, ip=client_ip(request), note=note)
    session.commit()
    return view.model_dump()


async def _snooze(request: Request, user: SessionUser, session: Session, task: Task,
                  hours: float, before: dict[str, Any]) -> dict[str, Any]:
    assert user.employee_id is not None
    if task.assignee_id != user.employee_id:
        raise forbidden("only the assignee snoozes a task")
    if task.status != "open":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"task {task.id} is already {task.status}")
    until = utcnow() + timedelta(hours=hours)
    postponed = await _snooze_workflow(request.app.state.temporal, task, user.employee_id,
                                       until.isoformat())
    row = session.get(TaskSnooze, (task.id, user.id))
    # What an undo puts back: the snooze before this one, if any.
    before["snoozed_until"] = row.until.isoformat() if row is not None else None
    if row is None:
        session.add(TaskSnooze(task_id=task.id, user_id=user.id, until=until))
    else:
        row.until = until
    audit(session, user.username, "task.snooze", "task", task.id, before=before,
          after={"status": task.status, "snoozed_until": until.isoformat(),
                 "reminders_postponed": postponed},
          ip=client_ip(request))
    session.commit()
    return {**task_dict(task), "snoozed_until": until.isoformat(),
            "reminders_postponed": postponed}


async def _undo(request: Request, user: SessionUser, session: Session,
                task: Task) -> dict[str, Any]:
    """Takes back the user's last task action, if it is this task's and under a minute old."""
    assert user.employee_id is not None
    offer = undo_offer(session, user)
    if offer is None or offer["task"].id != task.id:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="nothing to undo: an action can "
                            "be undone for a minute, and only by who took it")
    last: Any = offer["audit"]
    undone = {"status": task.status, "action": offer["action"]}
    if offer["action"] != "snooze" or (last.after or {}).get("reminders_postponed"):
        session.rollback()
        view = await apply_action(
            request.app.state.session_factory, request.app.state.temporal, task.id,
            UndoRequest(actor_id=user.employee_id))
        result = view.model_dump()
    else:
        result = task_dict(task)
    if offer["action"] == "snooze":
        row = session.get(TaskSnooze, (task.id, user.id))
        earlier = (last.before or {}).get("snoozed_until")
        if row is not None and earlier:
            row.until = datetime.fromisoformat(earlier)
        elif row is not None:
            session.delete(row)
    audit(session, user.username, "task.undo", "task", task.id, before=undone,
          after={"status": result["status"]}, ip=client_ip(request))
    session.commit()
    return result


async def _snooze_workflow(temporal: Client | None, task: Task, actor_id: str,
                           until: str) -> bool:
    """Holds the task workflow's reminders and escalation until `until`. False when no
    workflow runs for the task (nothing would remind anyway); a refusal is an HTTP error."""
    if temporal is None:
        return False
    handle = temporal.get_workflow_handle(task.workflow_id or f"task/{task.id}")
    try:
        await handle.execute_update(TASK_SNOOZE_UPDATE,
                                    SnoozeRequest(actor_id=actor_id, until=until),
                                    result_type=TaskView, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as exc:
        raise _refused(task.id, exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE):
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                detail="the workflow engine did not answer; try again") from None
        raise
    return True


@router.get("/console/api/notifications")
def list_notifications(user: ApiUser, session: SessionDep,
                       unread: bool | None = None) -> list[dict[str, Any]]:
    """The signed-in user's own inbox, newest first."""
    q = select(Notification).where(mine(Notification.recipient_id, user),
                                   Notification.channel == "inapp")
    if unread:
        q = q.where(Notification.read_at.is_(None))
    rows = session.scalars(q.order_by(Notification.created_at.desc()).limit(200))
    return [{"id": n.id, "subject": n.subject, "body": n.body, "rule_id": n.rule_id,
             "created_at": n.created_at.isoformat(),
             "read_at": n.read_at.isoformat() if n.read_at else None} for n in rows]


@router.post("/console/api/notifications/{notification_id}/read")
def mark_read(notification_id: RowId, user: ApiPostingUser,
              session: SessionDep) -> dict[str, Any]:
    n = check_notification(session, user, notification_id)
    if n.read_at is None:
        n.read_at = utcnow()
        session.commit()
    return {"id": n.id, "read_at": n.read_at.isoformat()}
