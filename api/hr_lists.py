"""The rows of HR's three filtered lists, the same for the page and its CSV export: tasks,
firings (with what each run came to) and notifications.

Filters: status, rule, employee (whom a row is about, or who it went to), and a date range
in the reader's own time zone (`from` and `to` are whole local days, both included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wendu.api.run_history import firing_outcomes
from wendu.api.web_access import task_scope
from wendu.api.web_accounts import SessionUser
from wendu.api.web_local import names_for
from wendu.localize import DEFAULT_TIMEZONE, zone
from wendu.store.models import Employee, Firing, Notification, Task, utcnow
from wendu.titles import title_in

# A task not done yet: waiting for someone, or in progress ("I'm on it").
UNFINISHED = ("open", "acknowledged")

LIMIT = 500  # rows a page shows and an export writes


@dataclass
class ListFilters:
    status: str = ""
    rule: str = ""
    employee: str = ""
    since: str = ""  # the `from` date, YYYY-MM-DD
    until: str = ""  # the `to` date
    overdue: bool = False
    outcome: str = ""
    channel: str = ""
    # Firings as the dashboard counts them: held-out ones reached nobody and are left out.
    counted: bool = False
    error: str = ""  # what was wrong with the dates, in the filter form's words

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for export links and drill-downs)."""
        out = {"status": self.status, "rule": self.rule, "employee": self.employee,
               "from": self.since, "to": self.until, "outcome": self.outcome,
               "channel": self.channel, "overdue": "1" if self.overdue else "",
               "counted": "1" if self.counted else ""}
        return {k: v for k, v in out.items() if v}

    def audit(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v and k != "error"}


def user_zone(session: Session, user: SessionUser) -> str:
    me = session.get(Employee, user.employee_id) if user.employee_id else None
    return (me.timezone if me is not None else None) or DEFAULT_TIMEZONE


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def window(f: ListFilters, tz: str) -> tuple[datetime | None, datetime | None]:
    """UTC bounds of the filters' local days: [from 00:00, day after `to` 00:00). A date that
    does not parse, or a range that ends before it starts, sets `f.error` and is ignored."""
    start, end = _day(f.since), _day(f.until)
    if (f.since and start is None) or (f.until and end is None) or (
            start and end and end < start):
        f.error = "bad_range"
        return None, None
    where = zone(tz)
    lo = datetime.combine(start, time(), where) if start else None
    hi = datetime.combine(end + timedelta(days=1), time(), where) if end else None
    return lo, hi


def task_rows(session: Session, user: SessionUser, f: ListFilters, tz: str,
              lang: str) -> list[dict]:
    q = select(Task)
    scope = task_scope(session, user)
    if scope is not None:
        q = q.where(scope)
    if f.status:  # one status, or several: "open,acknowledged" is every unfinished task
        q = q.where(Task.status.in_(f.status.split(",")))
    if f.rule:
        q = q.where(Task.rule_id == f.rule)
    if f.employee:
        q = q.where(or_(Task.subject_employee_id == f.employee, Task.assignee_id == f.employee))
    if f.overdue:
        q = q.where(Task.status.in_(UNFINISHED), Task.due_at < utcnow())
    lo, hi = window(f, tz)
    if lo:
        q = q.where(Task.created_at >= lo)
    if hi:
        q = q.where(Task.created_at < hi)
    tasks = session.scalars(q.order_by(Task.created_at.desc(), Task.id).limit(LIMIT)).all()
    names = names_for(session, {t.assignee_id for t in tasks} | {t.subject_employee_id
                                                               for t in tasks})
    return [{"id": t.id, "title": title_in(t.title, t.titles, lang), "rule_id": t.rule_id,
             "status": t.status,
             "assignee_id": t.assignee_id, "assignee_name": names.get(t.assignee_id, ""),
             "subject_id": t.subject_employee_id,
             "subject_name": names.get(t.subject_employee_id or "", ""),
             "escalation_level": t.escalation_level, "created_at": t.created_at,
             "due_at": t.due_at, "closed_at": t.closed_at} for t in tasks]


def firing_rows(session: Session, f: ListFilters, tz: str) -> list[dict]:
    q = select(Firing)
    if f.status:
        q = q.where(Firing.status == f.status)
    if f.counted:
        q = q.where(Firing.status != "held_out")
    if f.rule:
        q = q.where(Firing.rule_id == f.rule)
    if f.employee:
        q = q.where(Firing.employee_id == f.employee)
    lo, hi = window(f, tz)
    if lo:
        q = q.where(Firing.created_at >= lo)
    if hi:
        q = q.where(Firing.created_at < hi)
    q = q.order_by(Firing.created_at.desc(), Firing.id.desc())
    # An outcome is read from what each run left behind: filter after, over a wider read.
    firings = list(session.scalars(q.limit(LIMIT * 10 if f.outcome else LIMIT)))
    outcomes = firing_outcomes(session, firings)
    if f.outcome:
        firings = [x for x in firings if outcomes[x.id]["outcome"] == f.outcome][:LIMIT]
    names = names_for(session, {x.employee_id for x in firings})
    return [{"id": x.id, "rule_id": x.rule_id, "employee_id": x.employee_id,
             "employee_name": names.get(x.employee_id or "", ""), "status": x.status,
             "dedupe_key": x.dedupe_key, "created_at": x.created_at, "error": x.error,
             **outcomes[x.id]} for x in firings]


def notification_rows(session: Session, f: ListFilters, tz: str) -> list[dict]:
    q = select(Notification)
    if f.status:
        q = q.where(Notification.status == f.status)
    if f.channel:
        q = q.where(Notification.channel == f.channel)
    if f.rule:
        q = q.where(Notification.rule_id == f.rule)
    if f.employee:
        q = q.where(or_(Notification.recipient_id == f.employee,
                        Notification.subject_employee_id == f.employee))
    lo, hi = window(f, tz)
    if lo:
        q = q.where(Notification.created_at >= lo)
    if hi:
        q = q.where(Notification.created_at < hi)
    rows = session.scalars(q.order_by(Notification.created_at.desc(), Notification.id.desc())
                           .limit(LIMIT)).all()
    names = names_for(session, {n.recipient_id for n in rows} | {n.subject_employee_id
                                                               for n in rows})
    # The subject line, never the body: a body may quote what an employee wrote.
    return [{"id": n.id, "rule_id": n.rule_id, "recipient_id": n.recipient_id,
             "recipient_name": names.get(n.recipient_id, ""),
             "subject_id": n.subject_employee_id,
             "subject_name": names.get(n.subject_employee_id or "", ""),
             "channel": n.channel, "status": n.status, "subject": n.subject,
             "error": n.error, "created_at": n.created_at, "sent_at": n.sent_at,
             "read_at": n.read_at} for n in rows]
