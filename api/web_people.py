"""Employee profiles (HR, and managers for their reports); the HR dashboard is web_dashboard.py.

A manager's view of a profile carries derived facts, scores and counts, never what the
employee wrote, and never pay or origin (web_privacy.py): raw feedback and chat text has its
own HR-only route, opened with a stated purpose that the audit log keeps with each view.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.activities.score_inputs import profile_now
from wendu.api.deps import SessionDep
from wendu.api.web_access import SENSITIVE_EVENTS, check_employee, raw_feedback, require_hr
from wendu.api.web_accounts import SessionUser
from wendu.api.web_auth import ApiUser, CurrentUser, client_ip
from wendu.api.web_charts import bars, line
from wendu.api.web_local import axis, names_for
from wendu.api.web_privacy import facts_for, scores_for
from wendu.api.web_tasks import task_dict
from wendu.api.web_ui import lang_of, page, t
from wendu.store.models import (
    Employee,
    Event,
    Notification,
    ScoreRecord,
    Task,
    utcnow,
)

router = APIRouter(tags=["console"])
CHART_DAYS = 60


def _series(session: Session, employee_id: str, event_type: str,
            key: str) -> list[tuple[str, float]]:
    q = select(Event.occurred_at, Event.data).where(
        Event.employee_id == employee_id, Event.type == event_type,
        Event.occurred_at >= utcnow() - timedelta(days=CHART_DAYS))
    out = []
    for at, data in session.execute(q.order_by(Event.occurred_at)):
        value = (data or {}).get(key)
        if isinstance(value, int | float):
            out.append((str((data or {}).get("day") or at.date()), float(value)))
    return out


def profile_data(session: Session, emp: Employee, user: SessionUser) -> dict[str, Any]:
    facts = profile_now(session, emp.id)  # as of now: tenure and windows of today
    latest: dict[str, ScoreRecord] = {}
    for s in session.scalars(select(ScoreRecord).where(ScoreRecord.employee_id == emp.id)
                             .order_by(ScoreRecord.created_at)):
        latest[s.scorer] = s
    tasks = session.scalars(select(Task).where(Task.subject_employee_id == emp.id)
                            .order_by(Task.created_at.desc()).limit(50)).all()
    notes = session.scalars(select(Notification).where(Notification.subject_employee_id == emp.id)
                            .order_by(Notification.created_at.desc()).limit(50)).all()
    sensitive = session.scalar(select(func.count()).select_from(Event).where(
        Event.employee_id == emp.id, Event.type.in_(SENSITIVE_EVENTS))) or 0
    return {
        "employee": {"id": emp.id, "name": emp.name, "title": emp.title,
                     "department": emp.department, "manager_id": emp.manager_id,
                     "hired_on": emp.hired_on.isoformat() if emp.hired_on else None,
                     "locale": emp.locale, "active": emp.active},
        "facts": facts_for(user, dict(sorted(facts.items()))) if facts else {},
        "overtime": _series(session, emp.id, "attendance.day_closed", "overtime_hours"),
        "satisfaction": _series(session, emp.id, "survey.response", "satisfaction"),
        "scores": scores_for(user, [{"scorer": s.scorer, "value": round(s.value, 3),
                                     "label": s.label, "model_version": s.model_version,
                                     "factors": s.factors or [],
                                     "at": s.created_at.isoformat()} for s in latest.values()]),
        "tasks": [task_dict(x) for x in tasks],
        # Who was told what, when: subjects only, the bodies are the recipients'.
        "notifications": [{"id": n.id, "recipient_id": n.recipient_id, "subject": n.subject,
                           "rule_id": n.rule_id, "status": n.status, "channel": n.channel,
                           "created_at": n.created_at.isoformat()} for n in notes],
        "sensitive_count": sensitive,
    }


@router.get("/console/employees/{employee_id}", response_class=HTMLResponse)
def profile_page(request: Request, employee_id: str, user: CurrentUser,
                 session: SessionDep) -> HTMLResponse:
    data = profile_data(session, check_employee(session, user, employee_id), user)
    lang = lang_of(request, user)
    people = [data["employee"]["manager_id"], *(x["assignee_id"] for x in data["tasks"]),
              *(n["recipient_id"] for n in data["notifications"])]
    return page(request, "employee.html", user, **data, names=names_for(session, people),
                overtime_svg=bars(axis(data["overtime"], lang), t("overtime", lang)),
                satisfaction_svg=line(axis(data["satisfaction"], lang),
                                      t("satisfaction", lang), 1, 5))


@router.get("/console/employees/{employee_id}/feedback", response_class=HTMLResponse)
def feedback_page(request: Request, employee_id: str, user: CurrentUser, session: SessionDep,
                  purpose: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    """First the question why (nothing is shown or audited yet), then the text."""
    require_hr(user, "raw feedback text")
    emp = check_employee(session, user, employee_id)
    if purpose is None:
        return page(request, "feedback.html", user, employee=emp, items=None)
    items = raw_feedback(session, user, employee_id, client_ip(request), purpose)
    return page(request, "feedback.html", user, employee=emp, items=items,
                purpose=" ".join(purpose.split()))


@router.get("/console/api/employees/{employee_id}")
def profile_json(employee_id: str, user: ApiUser, session: SessionDep) -> dict[str, Any]:
    return profile_data(session, check_employee(session, user, employee_id), user)


@router.get("/console/api/employees/{employee_id}/feedback")
def feedback_json(request: Request, employee_id: str, user: ApiUser, session: SessionDep,
                  purpose: Annotated[str, Query(max_length=500)] = "") -> list[dict[str, Any]]:
    """The raw text, for HR, with `purpose`: why it is opened (kept in the audit log)."""
    return raw_feedback(session, user, employee_id, client_ip(request), purpose)

