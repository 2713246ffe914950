"""The in-app inbox: notifications delivered by rules, read and marked read by clients (one
message, or all of a recipient's at once).

A token bound to an actor reads and marks only that person's messages (403 for anyone
else's); an unbound `notifications:read` token is an integration's and reads every inbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import select, update

from wendu.api.deps import SessionDep, TokenDep, act_as, require_scope
from wendu.api.input_limits import Offset, RowId
from wendu.store.models import Notification, NotificationStatus, utcnow

router = APIRouter(
    prefix="/api/v1/notifications",
    tags=["notifications"],
    dependencies=[Depends(require_scope("notifications:read"))],
)


class NotificationOut(BaseModel):
    id: int
    recipient_id: str
    subject_employee_id: str | None
    rule_id: str | None
    workflow_id: str
    channel: str
    template: str
    locale: str
    subject: str
    body: str
    status: str
    # Why a delivery failed (or why it is still being retried), and how often it was tried.
    error: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    created_at: datetime
    read_at: datetime | None


def _out(n: Notification) -> NotificationOut:
    return NotificationOut.model_validate(n, from_attributes=True)


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    session: SessionDep,
    token: TokenDep,
    recipient: str | None = None,
    unread: bool | None = None,
    channel: str | None = None,
    # Every status a row can have; FastAPI answers any other with a 422 that lists them.
    status_: Annotated[NotificationStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[NotificationOut]:
    """Newest first; `recipient` is an employee id, `unread=true` hides those read.

    Without `channel` this is the in-app inbox; with `status` (e.g. `failed`: deliveries given
    up, with their reason; `digest`: messages over the daily cap, waiting for the recipient's
    digest) it covers every channel unless `channel` narrows it.
    """
    if token.actor_id is not None:
        act_as(token, recipient or token.actor_id)
        recipient = token.actor_id
    q = select(Notification)
    if recipient:
        q = q.where(Notification.recipient_id == recipient)
    if channel is None and status_ is None:
        channel = "inapp"
    if channel:
        q = q.where(Notification.channel == channel)
    if status_:
        q = q.where(Notification.status == status_)
    if unread is True:
        q = q.where(Notification.read_at.is_(None))
    elif unread is False:
        q = q.where(Notification.read_at.is_not(None))
    q = q.order_by(Notification.created_at.desc(), Notification.id.desc())
    q = q.limit(limit).offset(offset)
    return [_out(n) for n in session.scalars(q)]


class MarkedOut(BaseModel):
    marked: int


@router.post("/read-all", response_model=MarkedOut)
def mark_all_read(session: SessionDep, token: TokenDep,
                  recipient: Annotated[str | None, Query(max_length=64)] = None) -> MarkedOut:
    """Mark every unread in-app message of `recipient` read (a bound token: its own; an
    unbound one names the recipient); how many were marked."""
    if token.actor_id is not None:
        act_as(token, recipient or token.actor_id)
        recipient = token.actor_id
    if not recipient:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail="recipient: whose inbox to mark read (an employee id)")
    result = session.execute(update(Notification).where(
        Notification.recipient_id == recipient, Notification.channel == "inapp",
        Notification.read_at.is_(None)).values(read_at=utcnow()))
    session.commit()
    return MarkedOut(marked=int(getattr(result, "rowcount", 0) or 0))


@router.post("/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: RowId, session: SessionDep, token: TokenDep) -> NotificationOut:
    """Mark read (idempotent: the first read time is kept)."""
    n = session.get(Notification, notification_id)
    if n is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no notification {notification_id}")
    act_as(token, n.recipient_id)
    if n.read_at is None:
        n.read_at = utcnow()
        session.commit()
    return _out(n)
