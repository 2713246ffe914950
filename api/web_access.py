"""Who may see and do what in the console; pages and the console's JSON routes both call here,
so a rule is enforced the same way whichever door a request comes through.

- hr_admin, hrbp: everything (rule changes are hr_admin's alone);
- manager: tasks assigned to them and tasks about their direct reports; profiles of their
  direct reports, and of anyone a task was escalated to them about (skip-level);
- employee: their own tasks and inbox.

Denied is 403 where the page or action is simply not for the role, 404 where answering 403
would confirm that a task or a person exists to someone who may not know it.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from wendu.api.web_accounts import SessionUser, audit
from wendu.store.models import Employee, Event, Notification, Task

HR_ROLES = ("hr_admin", "hrbp")
SENSITIVE_EVENTS = ("feedback.submitted", "chat.message", "search.query")


def forbidden(what: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=f"not allowed: {what}")


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {what}")


def require_roles(user: SessionUser, *roles: str, what: str = "this page") -> None:
    if user.role not in roles:
        raise forbidden(what)


def require_hr(user: SessionUser, what: str = "this page") -> None:
    require_roles(user, *HR_ROLES, what=what)


def direct_reports(session: Session, employee_id: str | None) -> set[str]:
    if not employee_id:
        return set()
    return set(session.scalars(select(Employee.id).where(Employee.manager_id == employee_id)))


def _escalated_subjects(session: Session, employee_id: str) -> set[str]:
    q = select(Task.subject_employee_id).where(
        Task.assignee_id == employee_id, Task.escalation_level > 0,
        Task.subject_employee_id.is_not(None),
    )
    return set(session.scalars(q))


def visible_employees(session: Session, user: SessionUser) -> set[str] | None:
    """Employee ids whose profile the user may open; None means all (HR)."""
    if user.is_hr:
        return None
    if user.role != "manager" or not user.employee_id:
        return set()
    return direct_reports(session, user.employee_id) | _escalated_subjects(
        session, user.employee_id
    )


def check_employee(session: Session, user: SessionUser, employee_id: str) -> Employee:
    """The employee whose profile the user opens, or 403 (not a profile reader) / 404."""
    if not user.is_hr and user.role != "manager":
        raise forbidden("employee profiles")
    emp = session.get(Employee, employee_id)
    allowed = visible_employees(session, user)
    if emp is None or (allowed is not None and employee_id not in allowed):
        raise not_found(f"employee {employee_id!r}")
    return emp


def task_scope(session: Session, user: SessionUser) -> Any:
    """A WHERE clause for the tasks the user may see (None: all)."""
    if user.is_hr:
        return None
    me = mine(Task.assignee_id, user)
    if user.role == "manager":
        reports = direct_reports(session, user.employee_id)
        if reports:
            return or_(me, Task.subject_employee_id.in_(reports))
    return me


def mine(column: Any, user: SessionUser) -> Any:
    """`column` is the user's employee id; nothing for an account without an employee."""
    return column == user.employee_id if user.employee_id else false()


def check_task(session: Session, user: SessionUser, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise not_found(f"task {task_id!r}")
    scope = task_scope(session, user)
    if scope is not None:
        found = session.scalar(select(Task.id).where(Task.id == task_id, scope))
        if found is None:
            raise not_found(f"task {task_id!r}")
    return task


def check_notification(session: Session, user: SessionUser, notification_id: int) -> Notification:
    """Only the recipient reads or marks a notification: an inbox is personal, for HR too."""
    n = session.get(Notification, notification_id)
    if n is None or not user.employee_id or n.recipient_id != user.employee_id:
        raise not_found(f"notification {notification_id}")
    return n


MIN_PURPOSE = 4


def raw_feedback(
    session: Session, user: SessionUser, employee_id: str, ip: str | None, purpose: str,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The employee's own words (feedback, chat, searches): HR only, for a stated purpose,
    and every view is written to the audit log (with the purpose) before the text is
    returned."""
    require_hr(user, "raw feedback text")
    purpose = " ".join(purpose.split())
    if len(purpose) < MIN_PURPOSE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail=f"purpose: say why you open this text (at least "
                                   f"{MIN_PURPOSE} characters); it is kept in the audit log")
    if session.get(Employee, employee_id) is None:
        raise not_found(f"employee {employee_id!r}")
    rows = session.scalars(
        select(Event).where(Event.employee_id == employee_id, Event.type.in_(SENSITIVE_EVENTS))
        .order_by(Event.occurred_at.desc()).limit(limit)
    ).all()
    audit(session, user.username, "feedback.view", "employee", employee_id, ip=ip,
          after={"events": [e.id for e in rows]}, note=purpose)
    session.commit()
    return [{"id": e.id, "type": e.type, "occurred_at": e.occurred_at.isoformat(),
             "text": (e.data or {}).get("text", ""), "channel": (e.data or {}).get("channel")}
            for e in rows]
