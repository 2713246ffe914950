"""Firings: each time a rule fired, whether its workflow started, and why it failed if it did.

`GET /api/v1/firings?status=failed` is HR's list of what did not happen: a workflow Temporal
never accepted (given up after its attempts), or one that failed, was terminated or timed out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep, require_scope
from wendu.api.input_limits import Offset
from wendu.api.run_history import firing_outcomes
from wendu.store.models import Firing, utcnow

router = APIRouter(
    prefix="/api/v1/firings",
    tags=["firings"],
    dependencies=[Depends(require_scope("rules:admin"))],
)

# held_out: the person is in the rule's control group (`holdout:`); it never starts.
FiringStatus = Literal["pending", "started", "failed", "held_out"]
RunOutcome = Literal["sent", "failed", "nothing", "pending", "held_out"]


class FiringOut(BaseModel):
    id: int
    rule_id: str
    dedupe_key: str
    workflow_id: str
    event_id: str | None
    employee_id: str | None
    status: str
    # Why the firing failed, or the last start attempt's error while it is still pending.
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    # What the run came to, read from what it left behind (api/run_history.py).
    outcome: RunOutcome = Field(description="sent: a message delivered or a task opened; "
                                "failed; nothing: the workflow sent nothing (yet); pending: "
                                "not started yet; held_out: the person is in the holdout")
    messages: int = Field(description="Messages of the run that reached their recipient")
    tasks: int = Field(description="Tasks the run opened")


@router.get("", response_model=list[FiringOut])
def list_firings(
    session: SessionDep,
    status_: Annotated[FiringStatus | None, Query(alias="status")] = None,
    rule_id: Annotated[str | None, Query(max_length=128)] = None,
    employee_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="Created at or after")] = None,
    until: Annotated[datetime | None, Query(description="Created before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[FiringOut]:
    """Newest first; `status=failed` lists the firings that did not run, each with its reason,
    and `outcome` says what each run came to."""
    q = select(Firing)
    if since:
        q = q.where(Firing.created_at >= since)
    if until:
        q = q.where(Firing.created_at < until)
    if status_:
        q = q.where(Firing.status == status_)
    if rule_id:
        q = q.where(Firing.rule_id == rule_id)
    if employee_id:
        q = q.where(Firing.employee_id == employee_id)
    rows = list(session.scalars(q.order_by(Firing.id.desc()).offset(offset).limit(limit)))
    outcomes = firing_outcomes(session, rows)
    return [FiringOut(**{k: getattr(row, k) for k in _COLUMNS},
                      **{k: outcomes[row.id][k] for k in ("outcome", "messages", "tasks")})
            for row in rows]


_COLUMNS = ("id", "rule_id", "dedupe_key", "workflow_id", "event_id", "employee_id", "status",
            "error", "attempts", "created_at", "started_at")


# --- what the console shows HR -------------------------------------------------------------

FAILED_WINDOW = timedelta(days=7)  # the dashboard's count, as its delivery failures


def failed_firings(session: Session, rule_id: str, limit: int = 20) -> list[Firing]:
    """A rule's most recent failed firings, newest first, each with its reason."""
    q = (select(Firing).where(Firing.status == "failed", Firing.rule_id == rule_id)
         .order_by(Firing.id.desc()).limit(limit))
    return list(session.scalars(q))


def failed_counts(session: Session, window: timedelta = FAILED_WINDOW) -> dict[str, int]:
    """Failed firings created in the last `window`, per rule."""
    q = (select(Firing.rule_id, func.count()).where(
        Firing.status == "failed", Firing.created_at >= utcnow() - window)
        .group_by(Firing.rule_id))
    return {rule_id: int(n) for rule_id, n in session.execute(q)}
