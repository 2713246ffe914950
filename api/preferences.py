"""Notification preferences over the API: what each person hears about, and on which channel.

`GET /api/v1/preferences/{employee_id}` lists every category with its label in both languages,
whether it is critical, and the person's choice; `PUT .../{category}` sets it. A token bound to
an employee reads and changes only their own (as for the inbox); an unbound one anyone's.
Muting a critical category (tasks, compliance) is refused with a 422 naming `muted`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep, TokenDep, act_as, require_scope
from wendu.api.input_limits import problem
from wendu.preferences import CATEGORIES
from wendu.store.models import Employee
from wendu.store.models_preferences import NotificationPreference

router = APIRouter(
    prefix="/api/v1/preferences",
    tags=["preferences"],
    dependencies=[Depends(require_scope("notifications:read"))],
)
# The channels a person reads on; a webhook is the site's integration, not anyone's inbox.
CHANNELS = ("inapp", "wecom", "email")
EmployeeId = Annotated[str, Path(max_length=64)]


class CategoryOut(BaseModel):
    category: str
    label_zh: str
    label_en: str
    critical: bool
    muted: bool = False
    channel: str | None = None


class PreferencesOut(BaseModel):
    employee_id: str
    categories: list[CategoryOut]


class PreferenceIn(BaseModel):
    muted: bool = False
    channel: str | None = Field(None, description="inapp, wecom or email; null: the rule's "
                                "channels")


def _unprocessable(loc: list, msg: str) -> HTTPException:
    return HTTPException(422,
                         detail=[problem(loc, msg, "value_error")])


def preferences_of(session: Session, employee_id: str) -> PreferencesOut:
    stored = {p.category: p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.employee_id == employee_id))}
    out = []
    for name, c in CATEGORIES.items():
        row = stored.get(name)
        out.append(CategoryOut(category=name, label_zh=c.zh, label_en=c.en, critical=c.critical,
                               muted=bool(row and row.muted and not c.critical),
                               channel=row.channel if row else None))
    return PreferencesOut(employee_id=employee_id, categories=out)


def set_preference(session: Session, employee_id: str, category: str,
                   choice: PreferenceIn) -> None:
    """Validates and stores one choice; raises the 422 the API and the console show."""
    found = CATEGORIES.get(category)
    if found is None:
        raise _unprocessable(["path", "category"], f"unknown category {category!r}; one of "
                             + ", ".join(CATEGORIES))
    if choice.muted and found.critical:
        raise _unprocessable(["body", "muted"], f"{category} messages are critical and cannot "
                             "be muted: someone has to act on them")
    if choice.channel is not None and choice.channel not in CHANNELS:
        raise _unprocessable(["body", "channel"], f"unknown channel {choice.channel!r}; one "
                             f"of {', '.join(CHANNELS)}, or null")
    row = session.get(NotificationPreference, (employee_id, category))
    if row is None:
        row = NotificationPreference(employee_id=employee_id, category=category)
        session.add(row)
    row.muted, row.channel = choice.muted, choice.channel


def _known(session: Session, employee_id: str) -> None:
    if session.get(Employee, employee_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no employee {employee_id!r}")


@router.get("/{employee_id}", response_model=PreferencesOut)
def get_preferences(session: SessionDep, token: TokenDep, employee_id: EmployeeId
                    ) -> PreferencesOut:
    act_as(token, employee_id)
    _known(session, employee_id)
    return preferences_of(session, employee_id)


@router.put("/{employee_id}/{category}", response_model=PreferencesOut)
def put_preference(session: SessionDep, token: TokenDep, employee_id: EmployeeId,
                   category: Annotated[str, Path(max_length=32)], choice: PreferenceIn
                   ) -> PreferencesOut:
    act_as(token, employee_id)
    _known(session, employee_id)
    set_preference(session, employee_id, category, choice)
    session.commit()
    return preferences_of(session, employee_id)
