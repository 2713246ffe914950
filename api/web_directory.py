"""The employee directory: HR finds anyone by name, id or department; a manager sees the
people whose profiles they may open (web_access.visible_employees: their direct reports, and
anyone a task was escalated to them about), and nobody else.

A row shows what a colleague may know (name, id, department, title, manager, whether they are
still here) and links to the profile, which applies the profile's own privacy rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep
from wendu.api.web_access import forbidden, visible_employees
from wendu.api.web_accounts import SessionUser
from wendu.api.web_auth import ApiUser, CurrentUser
from wendu.api.web_ui import page
from wendu.store.models import Employee

router = APIRouter(tags=["console"])
SHOWN = 200
Search = Annotated[str | None, Query(max_length=200)]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def directory(session: Session, user: SessionUser, q: str | None = None,
              department: str | None = None, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The employees `user` may look up that match `q` (in name, id or department, any case)
    and `department` (exact), by name."""
    if not user.is_hr and user.role != "manager":
        raise forbidden("the employee directory")
    stmt = select(Employee)
    allowed = visible_employees(session, user)
    if allowed is not None:
        stmt = stmt.where(Employee.id.in_(allowed) if allowed else false())
    if q and q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(or_(func.lower(Employee.name).like(pattern, escape="\\"),
                              func.lower(Employee.id).like(pattern, escape="\\"),
                              func.lower(Employee.department).like(pattern, escape="\\")))
    if department:
        stmt = stmt.where(Employee.department == department)
    rows = session.scalars(stmt.order_by(Employee.active.desc(), Employee.name, Employee.id)
                           .limit(limit)).all()
    managers: dict[str, str] = dict(session.execute(select(Employee.id, Employee.name).where(
        Employee.id.in_({e.manager_id for e in rows if e.manager_id}))).all())
    return [{"id": e.id, "name": e.name, "department": e.department, "title": e.title,
             "manager_id": e.manager_id, "manager_name": managers.get(e.manager_id or ""),
             "active": e.active} for e in rows]


def departments(session: Session, user: SessionUser) -> list[str]:
    stmt = select(Employee.department).where(Employee.department.is_not(None)).distinct()
    allowed = visible_employees(session, user)
    if allowed is not None:
        stmt = stmt.where(Employee.id.in_(allowed) if allowed else false())
    return sorted(d for d in session.scalars(stmt) if d)


@router.get("/console/employees", response_class=HTMLResponse)
def directory_page(request: Request, user: CurrentUser, session: SessionDep, q: Search = None,
                   department: Search = None) -> HTMLResponse:
    rows = directory(session, user, q, department)
    return page(request, "directory.html", user, rows=rows, q=q or "",
                department=department or "", departments=departments(session, user),
                shown=SHOWN)


@router.get("/console/api/employees")
def directory_json(user: ApiUser, session: SessionDep, q: Search = None,
                   department: Search = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = SHOWN) -> list[dict[str, Any]]:
    """The employees the user may look up (HR: everyone; a manager: their reports), matching
    `q` in name, id or department."""
    return directory(session, user, q, department, limit)
