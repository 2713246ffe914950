"""Who a role means for one employee: `employee`, `manager`, `skip_manager`, `hrbp`, `group:<x>`.

Roles are resolved when a message is sent or a task moves, never when the rule fires, so an
org change made meanwhile (a new manager) is respected. A role that names nobody (no skip-level
manager, an empty group) is reported back, not raised: the other recipients still get theirs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from wendu.rules.catalog import GROUP_PREFIX
from wendu.store.models import Employee


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    locale: str
    role: str
    email: str | None = None
    # Dates and times in a message are shown in this zone (wendu/localize.py).
    timezone: str = "Asia/Shanghai"

    def as_recipient(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass
class Resolution:
    people: list[Person] = field(default_factory=list)
    # Human-readable, e.g. "skip_manager (E2 has no manager)".
    unresolved: list[str] = field(default_factory=list)


def _person(emp: Employee, role: str) -> Person:
    return Person(emp.id, emp.name or emp.id, emp.locale or "zh-CN", role, emp.email,
                  emp.timezone or "Asia/Shanghai")


def _active(session: Session, employee_id: str | None) -> Employee | None:
    if not employee_id:
        return None
    emp = session.get(Employee, employee_id)
    return emp if emp is not None and emp.active else None


def _one(session: Session, subject: Employee | None, subject_id: str | None, role: str):
    """(employee or None, reason when None) for a single-person role."""
    if role == "employee":
        # The subject is reached even after leaving: an exit survey is sent to a leaver.
        if subject is None:
            return None, f"employee ({subject_id or 'no employee'} not found)"
        return subject, ""
    if subject is None:
        return None, f"{role} (employee {subject_id or '?'} not found)"
    if role == "manager":
        emp = _active(session, subject.manager_id)
        return emp, "" if emp else f"manager ({subject.id} has no active manager)"
    if role == "hrbp":
        emp = _active(session, subject.hrbp_id)
        return emp, "" if emp else f"hrbp ({subject.id} has no active HR business partner)"
    if role == "skip_manager":
        manager = session.get(Employee, subject.manager_id) if subject.manager_id else None
        emp = _active(session, manager.manager_id) if manager is not None else None
        return emp, "" if emp else f"skip_manager ({subject.id} has no active skip-level manager)"
    return None, f"{role} (unknown role)"


def group_members(session: Session, name: str) -> list[Employee]:
    # `groups` is a JSON list: its text names the group in quotes, which both SQLite and
    # PostgreSQL can match, so only likely members are read; Python then checks exactly.
    rows = session.scalars(
        select(Employee)
        .where(Employee.active.is_(True), cast(Employee.groups, String).like(f'%"{name}"%'))
        .order_by(Employee.id)
    )
    return [emp for emp in rows if name in (emp.groups or [])]


def resolve_roles(session: Session, subject_id: str | None, roles: list[str]) -> Resolution:
    """Everyone the roles name for the subject employee, each person once (first role wins)."""
    result = Resolution()
    seen: set[str] = set()
    subject = session.get(Employee, subject_id) if subject_id else None
    for role in roles:
        if role.startswith(GROUP_PREFIX):
            members = group_members(session, role[len(GROUP_PREFIX) :])
            if not members:
                result.unresolved.append(f"{role} (no active members)")
            found = [_person(emp, role) for emp in members]
        else:
            emp, reason = _one(session, subject, subject_id, role)
            if emp is None:
                result.unresolved.append(reason)
            found = [_person(emp, role)] if emp is not None else []
        for person in found:
            if person.id not in seen:
                seen.add(person.id)
                result.people.append(person)
    return result


def resolve_ids(session: Session, ids: list[str], role: str = "assignee") -> Resolution:
    """People named directly by employee id (a task's assignee)."""
    result = Resolution()
    for employee_id in dict.fromkeys(ids):
        emp = session.get(Employee, employee_id)
        if emp is None:
            result.unresolved.append(f"{employee_id} (not found)")
        else:
            result.people.append(_person(emp, role))
    return result


def resolve_one(session: Session, subject_id: str | None, role: str) -> tuple[Person | None, str]:
    """A single person for a role (tasks have one assignee): the first of a group, by id."""
    found = resolve_roles(session, subject_id, [role])
    if found.people:
        return found.people[0], ""
    return None, "; ".join(found.unresolved)
