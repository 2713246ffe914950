"""The console's "snoozed" list kept in step with a task workflow's snooze, when the API acts.

The console lists a task as snoozed while a `task_snoozes` row of the signed-in account says
so; the task workflow holds its reminders on its own clock. A snooze or an undo over the API
(as an employee, not an account) writes the rows of every active account of that employee, so
the assignee's console shows what the workflow does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wendu.store.models_accounts import TaskSnooze, User


def set_snooze(session: Session, task_id: str, employee_id: str,
               until: datetime | None) -> datetime | None:
    """The employee's accounts see the task snoozed until `until` (None: not snoozed); the
    snooze it replaces, if any."""
    earlier = None
    accounts = session.scalars(select(User.id).where(User.employee_id == employee_id,
                                                     User.active.is_(True))).all()
    for user_id in accounts:
        row = session.get(TaskSnooze, (task_id, user_id))
        if row is not None:
            earlier = row.until
            if until is None:
                session.delete(row)
            else:
                row.until = until
        elif until is not None:
            session.add(TaskSnooze(task_id=task_id, user_id=user_id, until=until))
    return earlier


def follow_workflow(factory: sessionmaker[Session], task_id: str, employee_id: str,
                    view: Any) -> None:
    """After an undo over the API: the snooze the workflow has now (a snooze undone puts back
    the one before, or none)."""
    until = getattr(view, "snoozed_until", None)
    with factory.begin() as session:
        set_snooze(session, task_id, employee_id,
                   datetime.fromisoformat(until) if until else None)
