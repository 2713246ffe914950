"""Employee profiles (HR, and managers for their reports) and the HR dashboard.

A manager's view of a profile carries derived facts, scores and counts, never what the
employee wrote, and never pay or origin (web_privacy.py): raw feedback and chat text has its
own HR-only route, opened with a stated purpose that the audit log keeps with each view.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.activities.score_inputs import profile_now
from wendu.api.deps import SessionDep
from wendu.api.firings import failed_counts
from wendu.api.web_access import SENSITIVE_EVENTS, check_employee, raw_feedback, require_hr
from wendu.api.web_accounts import SessionUser
from wendu.api.web_auth import ApiUser, CurrentUser, client_ip
from wendu.api.web_charts import bars, line
from wendu.api.web_privacy import facts_for, scores_for
from wendu.api.web_tasks import task_dict
from wendu.api.web_ui import lang_of, page, t
from wendu.impact import impact_per_rule
from wendu.store.models import (
    Employee,
    Event,
    Firing,
    Notification,
    Outcome,
    ScoreRecord,
    Task,
    TaskAction,
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
                                     "model_version": s.model_version,
                                     "factors": s.factors or [],
                                     "at": s.created_at.isoformat()} for s in latest.values()]),
        "tasks": [task_dict(x) for x in tasks],
        # Who was told what, when: subjects only, the bodies are the recipients'.
        "notifications": [{"id": n.id, "recipient_id": n.recipient_id, "subject": n.subject,
                           "rule_id": n.rule_id, "status": n.status,
                           "created_at": n.created_at.isoformat()} for n in notes],
        "sensitive_count": sensitive,
    }


@router.get("/console/employees/{employee_id}", response_class=HTMLResponse)
def profile_page(request: Request, employee_id: str, user: CurrentUser,
                 session: SessionDep) -> HTMLResponse:
    data = profile_data(session, check_employee(session, user, employee_id), user)
    lang = lang_of(request, user)
    return page(request, "employee.html", user, **data,
                overtime_svg=bars(data["overtime"], t("overtime", lang)),
                satisfaction_svg=line(data["satisfaction"], t("satisfaction", lang), 1, 5))


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


# --- dashboard -----------------------------------------------------------------------------


def dashboard_data(session: Session, weeks: int = 8) -> dict[str, Any]:
    now = utcnow()
    since = now - timedelta(weeks=weeks)
    per_rule: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # Held-out firings reached nobody: they count in the impact below, not as firings here.
    for rule_id, at in session.execute(select(Firing.rule_id, Firing.created_at)
                                       .where(Firing.created_at >= since,
                                              Firing.status != "held_out")):
        y, w, _ = at.isocalendar()
        per_rule[rule_id][f"{y}-W{w:02d}"] += 1
    week_labels = sorted({w for counts in per_rule.values() for w in counts})
    # "open": waiting for someone to take it on (in progress, acknowledged, is not counted).
    open_q = select(func.count()).select_from(Task).where(Task.status == "open")
    open_tasks = session.scalar(open_q) or 0
    overdue = session.scalar(open_q.where(Task.due_at < now)) or 0
    ack_hours = [(acted - created).total_seconds() / 3600 for acted, created in session.execute(
        select(TaskAction.created_at, Task.created_at).join(Task, Task.id == TaskAction.task_id)
        .where(TaskAction.action == "acknowledge"))]
    failures = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.status == "failed", Notification.created_at >= now - timedelta(days=7))) or 0
    return {
        "weeks": week_labels,
        "firings": {r: [counts.get(w, 0) for w in week_labels]
                    for r, counts in sorted(per_rule.items())},
        "open_tasks": open_tasks, "overdue_tasks": overdue,
        "median_ack_hours": round(statistics.median(ack_hours), 1) if ack_hours else None,
        "delivery_failures": failures,
        "failed_firings": sum(failed_counts(session).values()),
        "attendance_anomaly_rate": _anomaly_rate(session, now),
        "training_completion_rate": _training_rate(session, now),
        "satisfaction_trend": _satisfaction_trend(session, now, 12),
        "outcomes": _outcomes(session, now - timedelta(days=OUTCOME_DAYS)),
        # Before vs after each rule acted, and against its holdout if it has one.
        "impact": [i.as_dict() for i in impact_per_rule(session, now)],
    }


OUTCOME_DAYS = 30


def _outcomes(session: Session, since: Any) -> list[dict[str, Any]]:
    """What the rules' `record` steps measured in 30 days, per rule and metric: how often
    recorded, the total and the mean (guides that went out, retention tasks acknowledged)."""
    q = (select(Outcome.rule_id, Outcome.metric, func.count(), func.sum(Outcome.value))
         .where(Outcome.created_at >= since)
         .group_by(Outcome.rule_id, Outcome.metric)
         .order_by(Outcome.rule_id, Outcome.metric))
    return [{"rule_id": rule_id, "metric": metric, "count": count,
             "total": round(float(total or 0), 2),
             "mean": round(float(total or 0) / count, 3) if count else None}
            for rule_id, metric, count, total in session.execute(q)]


def _data_of(session: Session, event_type: str, since: Any) -> list[tuple[str, Any, dict]]:
    q = select(Event.employee_id, Event.occurred_at, Event.data).where(
        Event.type == event_type, Event.occurred_at >= since)
    return [(e, at, d or {}) for e, at, d in session.execute(q)]


def _anomaly_rate(session: Session, now: Any) -> float | None:
    """Share of closed working days in 30 days with more than 3 overtime hours or worked on a
    rest day: the signal the overtime rules exist to bring down."""
    days = _data_of(session, "attendance.day_closed", now - timedelta(days=30))
    if not days:
        return None
    odd = sum(1 for _, _, d in days
              if float(d.get("overtime_hours") or 0) > 3 or bool(d.get("weekend")))
    return round(odd / len(days), 3)


def _training_rate(session: Session, now: Any) -> float | None:
    """Share of active employees who completed at least one course in 90 days."""
    active = session.scalar(select(func.count()).select_from(Employee)
                            .where(Employee.active.is_(True))) or 0
    if not active:
        return None
    done = {e for e, _, _ in _data_of(session, "training.completed", now - timedelta(days=90))}
    return round(len(done) / active, 3)


def _satisfaction_trend(session: Session, now: Any, weeks: int) -> list[tuple[str, float]]:
    by_week: dict[str, list[float]] = defaultdict(list)
    for _, at, d in _data_of(session, "survey.response", now - timedelta(weeks=weeks)):
        if isinstance(d.get("satisfaction"), int | float):
            y, w, _ = at.isocalendar()
            by_week[f"{y}-W{w:02d}"].append(float(d["satisfaction"]))
    return [(w, round(statistics.mean(v), 2)) for w, v in sorted(by_week.items())]


@router.get("/console/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    require_hr(user)
    data = dashboard_data(session)
    lang = lang_of(request, user)
    totals = [(w, float(sum(v[i] for v in data["firings"].values())))
              for i, w in enumerate(data["weeks"])]
    return page(request, "dashboard.html", user, **data,
                firings_svg=bars(totals, t("firings_per_week", lang)),
                satisfaction_svg=line(data["satisfaction_trend"],
                                      t("satisfaction_trend", lang), 1, 5))


@router.get("/console/api/dashboard")
def dashboard_json(user: ApiUser, session: SessionDep) -> dict[str, Any]:
    require_hr(user)
    return dashboard_data(session)
