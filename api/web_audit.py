"""The audit log for HR: who did what to whom, newest first, filtered by person, actor and
action.

"Person" is whom a record is about: an employee record (a profile, raw feedback opened) or
a task about that employee, so one filter answers "who looked at or acted on 王芳's
matters". The log is read-only here; it is written by the code that acts (web_accounts.audit).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep
from wendu.api.web_access import require_hr
from wendu.api.web_auth import ApiUser, CurrentUser
from wendu.api.web_task_lists import people
from wendu.api.web_ui import lang_of, page
from wendu.localize import DEFAULT_TIMEZONE, format_datetime
from wendu.store.models import Employee, Task
from wendu.store.models_accounts import AuditLog, User

router = APIRouter(tags=["console"])
Filter = Annotated[str | None, Query(max_length=200)]
MAX_ROWS = 500


def audit_rows(session: Session, person: str | None, actor: str | None, action: str | None,
               limit: int = 200) -> list[dict[str, Any]]:
    q = select(AuditLog)
    if person:
        about = select(Task.id).where(Task.subject_employee_id == person)
        q = q.where(or_(
            and_(AuditLog.target_type == "employee", AuditLog.target_id == person),
            and_(AuditLog.target_type == "task", AuditLog.target_id.in_(about))))
    if actor:
        q = q.where(AuditLog.actor == actor)
    if action:  # "task" finds task.acknowledge, task.complete, ...
        q = q.where(or_(AuditLog.action == action, AuditLog.action.like(f"{action}.%")))
    rows = session.scalars(q.order_by(AuditLog.id.desc()).limit(min(max(limit, 1), MAX_ROWS)))
    return [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
             "target_type": r.target_type, "target_id": r.target_id, "before": r.before,
             "after": r.after, "note": r.note, "ip": r.ip} for r in rows]


@router.get("/console/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: CurrentUser, session: SessionDep, person: Filter = None,
               actor: Filter = None, action: Filter = None) -> HTMLResponse:
    require_hr(user, "the audit log")
    rows = audit_rows(session, person, actor, action)
    about = {r["target_id"] for r in rows if r["target_type"] == "employee"} | {person or ""}
    names = dict(session.execute(select(Employee.id, Employee.name).where(
        Employee.id.in_(about))).all())
    me = session.get(Employee, user.employee_id) if user.employee_id else None
    zone = (me.timezone if me is not None else None) or DEFAULT_TIMEZONE
    lang = lang_of(request, user)
    tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(
        {r["target_id"] for r in rows if r["target_type"] == "task"})))}
    return page(request, "audit.html", user, rows=rows, names=names, people=people(session),
                tasks=tasks, users={str(i): n for i, n in session.execute(
                    select(User.id, User.username))},
                at=lambda value: format_datetime(value, lang, zone),
                filters={"person": person or "", "actor": actor or "", "action": action or ""},
                actions=sorted(set(session.scalars(select(AuditLog.action).distinct()))))


@router.get("/console/api/audit")
def audit_json(user: ApiUser, session: SessionDep, person: Filter = None, actor: Filter = None,
               action: Filter = None,
               limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 200) -> list[dict[str, Any]]:
    """Audit records, newest first: `person` (whom they are about), `actor` (username),
    `action` (exact, or a prefix such as `task`)."""
    require_hr(user, "the audit log")
    return audit_rows(session, person, actor, action, limit)
