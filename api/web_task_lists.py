"""The four task lists of "My tasks" (open, in progress, snoozed, done) and the undo offer.

A task is in one list at a time: snoozed while the assignee's snooze lasts, else by its
status (acknowledged is in progress; completed and dismissed are done, the last 30 days; so
is a task acknowledged before acknowledging kept tasks open: its `closed_at` is set).
The undo offer is the signed-in user's last task action, found in the audit log, while it is
less than a minute old: the task workflow is still the judge of whether it can be undone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.api.web_access import mine
from wendu.api.web_accounts import SessionUser
from wendu.store.models import Employee, Task, utcnow
from wendu.store.models_accounts import AuditLog, TaskSnooze

TaskList = Literal["open", "progress", "snoozed", "done"]
LISTS: tuple[TaskList, ...] = ("open", "progress", "snoozed", "done")
UNDO_SECONDS = 60
UNDOABLE = ("task.acknowledge", "task.complete", "task.dismiss", "task.snooze")
DONE_DAYS = 30


def my_lists(session: Session, user: SessionUser, which: TaskList) -> dict[str, Any]:
    """The tasks of list `which`, the size of every list, and what the user may undo."""
    now = utcnow()
    snoozed = dict(session.execute(select(TaskSnooze.task_id, TaskSnooze.until).where(
        TaskSnooze.user_id == user.id, TaskSnooze.until > now)).all())
    rows = session.scalars(select(Task).where(
        mine(Task.assignee_id, user),
        Task.closed_at.is_(None) | (Task.closed_at >= now - timedelta(days=DONE_DAYS)),
    ).order_by(Task.due_at, Task.id)).all()
    lists: dict[str, list[Task]] = {name: [] for name in LISTS}
    for task in rows:
        lists[list_of(task, task.id in snoozed)].append(task)
    lists["done"].sort(key=lambda t: t.closed_at or now, reverse=True)
    return {"todo": lists[which], "which": which, "counts": {k: len(v) for k, v in lists.items()},
            "now": now, "undo": undo_offer(session, user), "snoozes": snoozed}


def list_of(task: Task, snoozed: bool = False) -> TaskList:
    if task.closed_at is not None or task.status not in ("open", "acknowledged"):
        return "done"
    if snoozed:
        return "snoozed"
    return "open" if task.status == "open" else "progress"


def undo_offer(session: Session, user: SessionUser) -> dict[str, Any] | None:
    """The user's last task action if it is under a minute old and nobody acted since."""
    since = utcnow() - timedelta(seconds=UNDO_SECONDS)
    last = session.scalars(select(AuditLog).where(
        AuditLog.actor == user.username, AuditLog.target_type == "task",
        AuditLog.action.like("task.%"), AuditLog.at >= since,
    ).order_by(AuditLog.id.desc()).limit(1)).first()
    if last is None or last.action not in UNDOABLE:
        return None
    newer = session.scalar(select(AuditLog.id).where(
        AuditLog.target_type == "task", AuditLog.target_id == last.target_id,
        AuditLog.id > last.id))
    task = session.get(Task, last.target_id)
    if newer is not None or task is None:
        return None
    return {"task": task, "action": last.action.removeprefix("task."), "audit": last}


def people(session: Session, limit: int = 5000) -> list[tuple[str, str]]:
    """(id, name) of the active employees a task may be handed to, by name."""
    return list(session.execute(select(Employee.id, Employee.name).where(
        Employee.active.is_(True)).order_by(Employee.name, Employee.id).limit(limit)))
