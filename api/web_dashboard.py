"""The HR dashboard: the figures HR watches over a period it picks (`from`, `to`: local days,
the last 8 weeks by default), each number a link to the firings, tasks or notifications
behind it.

Counts over the period: firings (held-out ones reached nobody: they count in the impact,
not here), the firings whose run reached someone (api/run_history.py), tasks opened, the
weekly firings per rule, what the rules recorded and the satisfaction trend. Open and overdue
tasks are as of now; failed firings and deliveries are the last 7 days (what needs fixing
now); the attendance and training rates keep their own windows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep
from wendu.api.firings import FAILED_WINDOW, failed_counts
from wendu.api.hr_lists import UNFINISHED, ListFilters, user_zone, window
from wendu.api.run_history import acted_counts
from wendu.api.web_access import require_hr
from wendu.api.web_auth import ApiUser, CurrentUser
from wendu.api.web_charts import bars, line
from wendu.api.web_local import axis
from wendu.api.web_ui import lang_of, page, t
from wendu.impact import impact_per_rule
from wendu.localize import zone
from wendu.store.models import (
    Employee,
    Event,
    Firing,
    Notification,
    Outcome,
    Task,
    TaskAction,
    utcnow,
)

router = APIRouter(tags=["console"])
DEFAULT_DAYS = 56  # 8 weeks, today included
Day = Annotated[str, Query(max_length=10)]


def period(since: str, until: str, tz: str) -> tuple[ListFilters, datetime, datetime]:
    """The period's filters (its dates filled in) and UTC bounds; the default when a date
    does not parse or the range is upside down (the filters carry the error)."""
    f = ListFilters(since=since.strip(), until=until.strip())
    today = datetime.now(zone(tz)).date()
    if not f.until:
        f.until = today.isoformat()
    if not f.since and _is_day(f.until):
        f.since = (date.fromisoformat(f.until) - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    lo, hi = window(f, tz)
    if lo is None or hi is None:
        error = f.error or "bad_range"
        f = ListFilters(since=(today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
                        until=today.isoformat())
        lo, hi = window(f, tz)
        f.error = error
    assert lo is not None and hi is not None
    return f, lo, hi


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _week(at: datetime, tz: str) -> str:
    y, w, _ = at.astimezone(zone(tz)).isocalendar()
    return f"{y}-W{w:02d}"


def _link(path: str, **params: str) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v})}"


def dashboard_data(session: Session, since: datetime, until: datetime, tz: str,
                   f: ListFilters) -> dict[str, Any]:
    now = utcnow()
    in_range = (Firing.created_at >= since, Firing.created_at < until)
    per_rule: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rule_id, at in session.execute(select(Firing.rule_id, Firing.created_at)
                                       .where(*in_range, Firing.status != "held_out")):
        per_rule[rule_id][_week(at, tz)] += 1
    week_labels = sorted({w for counts in per_rule.values() for w in counts})
    span = {"from": f.since, "to": f.until}
    # "open": not done yet, whether waiting for someone or in progress (acknowledged).
    open_q = select(func.count()).select_from(Task).where(Task.status.in_(UNFINISHED))
    tasks_q = select(func.count()).select_from(Task).where(Task.created_at >= since,
                                                          Task.created_at < until)
    ack_hours = [(acted - created).total_seconds() / 3600 for acted, created in session.execute(
        select(TaskAction.created_at, Task.created_at).join(Task, Task.id == TaskAction.task_id)
        .where(TaskAction.action == "acknowledge", Task.created_at >= since,
               Task.created_at < until))]
    # Failures are the last 7 days whatever the period: what needs fixing now.
    week_ago = now - FAILED_WINDOW
    failures = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.status == "failed", Notification.created_at >= week_ago)) or 0
    failed_firings = sum(failed_counts(session).values())
    last_week = {"from": (datetime.now(zone(tz)) - FAILED_WINDOW).date().isoformat()}
    return {
        "period": span, "range_error": f.error,
        "weeks": week_labels,
        "week_spans": {w: _week_span(w, f) for w in week_labels},
        "firings": {r: [counts.get(w, 0) for w in week_labels]
                    for r, counts in sorted(per_rule.items())},
        "fired": sum(sum(c.values()) for c in per_rule.values()),
        "acted": sum(acted_counts(session, since, until).values()),
        "tasks_opened": session.scalar(tasks_q) or 0,
        "open_tasks": session.scalar(open_q) or 0,
        "overdue_tasks": session.scalar(open_q.where(Task.due_at < now)) or 0,
        "median_ack_hours": round(statistics.median(ack_hours), 1) if ack_hours else None,
        "delivery_failures": failures,
        "failed_firings": failed_firings,
        "links": {
            "fired": _link("/console/firings", counted="1", **span),
            "acted": _link("/console/firings", outcome="sent", **span),
            "tasks_opened": _link("/console/all-tasks", **span),
            "open_tasks": _link("/console/all-tasks", status=",".join(UNFINISHED)),
            "overdue_tasks": _link("/console/all-tasks", status=",".join(UNFINISHED),
                                   overdue="1"),
            "failed_firings": _link("/console/firings", status="failed", **last_week),
            "delivery_failures": _link("/console/notifications", status="failed",
                                       **last_week),
        },
        "attendance_anomaly_rate": _anomaly_rate(session, now),
        "training_completion_rate": _training_rate(session, now),
        "satisfaction_trend": _satisfaction_trend(session, since, until, tz),
        "outcomes": _outcomes(session, since, until),
        # Before vs after each rule acted, and against its holdout if it has one.
        "impact": [i.as_dict() for i in impact_per_rule(session, now)],
    }


def _week_span(label: str, f: ListFilters) -> dict[str, str]:
    """The local days of ISO week `label` within the period: a week cell's drill-down."""
    year, week = label.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    start = max(monday, date.fromisoformat(f.since))
    end = min(monday + timedelta(days=6), date.fromisoformat(f.until))
    return {"from": start.isoformat(), "to": end.isoformat()}


def _outcomes(session: Session, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """What the rules' `record` steps measured in the period, per rule and metric: how often
    recorded, the total and the mean (guides that went out, retention tasks acknowledged)."""
    q = (select(Outcome.rule_id, Outcome.metric, func.count(), func.sum(Outcome.value))
         .where(Outcome.created_at >= since, Outcome.created_at < until)
         .group_by(Outcome.rule_id, Outcome.metric)
         .order_by(Outcome.rule_id, Outcome.metric))
    return [{"rule_id": rule_id, "metric": metric, "count": count,
             "total": round(float(total or 0), 2),
             "mean": round(float(total or 0) / count, 3) if count else None}
            for rule_id, metric, count, total in session.execute(q)]


def _data_of(session: Session, event_type: str, since: datetime,
             until: datetime | None = None) -> list[tuple[str, Any, dict]]:
    q = select(Event.employee_id, Event.occurred_at, Event.data).where(
        Event.type == event_type, Event.occurred_at >= since)
    if until is not None:
        q = q.where(Event.occurred_at < until)
    return [(e, at, d or {}) for e, at, d in session.execute(q)]


def _anomaly_rate(session: Session, now: datetime) -> float | None:
    """Share of closed working days in 30 days with more than 3 overtime hours or worked on a
    rest day: the signal the overtime rules exist to bring down."""
    days = _data_of(session, "attendance.day_closed", now - timedelta(days=30))
    if not days:
        return None
    odd = sum(1 for _, _, d in days
              if float(d.get("overtime_hours") or 0) > 3 or bool(d.get("weekend")))
    return round(odd / len(days), 3)


def _training_rate(session: Session, now: datetime) -> float | None:
    """Share of active employees who completed at least one course in 90 days."""
    active = session.scalar(select(func.count()).select_from(Employee)
                            .where(Employee.active.is_(True))) or 0
    if not active:
        return None
    done = {e for e, _, _ in _data_of(session, "training.completed", now - timedelta(days=90))}
    return round(len(done) / active, 3)


def _satisfaction_trend(session: Session, since: datetime, until: datetime,
                        tz: str) -> list[tuple[str, float]]:
    by_week: dict[str, list[float]] = defaultdict(list)
    for _, at, d in _data_of(session, "survey.response", since, until):
        if isinstance(d.get("satisfaction"), int | float):
            by_week[_week(at, tz)].append(float(d["satisfaction"]))
    return [(w, round(statistics.mean(v), 2)) for w, v in sorted(by_week.items())]


@router.get("/console/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, user: CurrentUser, session: SessionDep,
                   since: Annotated[str, Query(alias="from", max_length=10)] = "",
                   until: Annotated[str, Query(alias="to", max_length=10)] = ""
                   ) -> HTMLResponse:
    require_hr(user)
    tz = user_zone(session, user)
    f, lo, hi = period(since, until, tz)
    data = dashboard_data(session, lo, hi, tz, f)
    lang = lang_of(request, user)
    totals = [(w, float(sum(v[i] for v in data["firings"].values())))
              for i, w in enumerate(data["weeks"])]
    return page(request, "dashboard.html", user, **data,
                firings_svg=bars(axis(totals, lang), t("firings_per_week", lang)),
                satisfaction_svg=line(axis(data["satisfaction_trend"], lang),
                                      t("satisfaction_trend", lang), 1, 5))


@router.get("/console/api/dashboard")
def dashboard_json(user: ApiUser, session: SessionDep,
                   since: Annotated[str, Query(alias="from", max_length=10)] = "",
                   until: Annotated[str, Query(alias="to", max_length=10)] = ""
                   ) -> dict[str, Any]:
    """The dashboard's figures over `from`..`to` (local days; the last 8 weeks by default),
    with `links` to the lists behind each number."""
    require_hr(user)
    tz = user_zone(session, user)
    f, lo, hi = period(since, until, tz)
    return dashboard_data(session, lo, hi, tz, f)
