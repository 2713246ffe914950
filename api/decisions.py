"""The decision log: `GET /api/v1/decisions`, why a rule fired for someone, or did not.

Each row is one match of a rule: `fired`, or held back (`deduped`: the rule had fired for that
key; `held_out`: the person is in the rule's control group), with the rule version, the inputs
its conditions read and the fast scores that decided it. Free text people wrote is never in
it (`wendu.decisions`). Newest first; `since` takes a time, a date or a duration back from now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep, require_scope
from wendu.api.input_limits import Offset, problem
from wendu.decisions import RESULTS
from wendu.rules.durations import DurationError, parse_duration
from wendu.store.models import Decision, utcnow

router = APIRouter(
    prefix="/api/v1/decisions",
    tags=["decisions"],
    dependencies=[Depends(require_scope("rules:admin"))],
)


class DecisionOut(BaseModel):
    id: int
    rule_id: str
    rule_version: int
    rule_digest: str
    employee_id: str | None
    event_id: str | None
    dedupe_key: str
    workflow_id: str
    result: str
    inputs: dict[str, Any]
    scores: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


def since_time(text: str, now: datetime | None = None) -> datetime:
    """`7d` (back from now), `2026-11-01` (that day, UTC) or an ISO time; ValueError if none."""
    text = text.strip()
    try:
        return (now or utcnow()) - timedelta(seconds=parse_duration(text))
    except DurationError:
        pass
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        try:
            found = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            raise ValueError(f"since: {text!r} is neither a duration (7d, 12h) nor a date or "
                             "time (2026-11-01, 2026-11-01T09:00:00+08:00)") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _problem(field: str, message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         detail=[problem(["query", field], message, "value_error")])


@router.get("", response_model=list[DecisionOut])
def list_decisions(
    session: SessionDep,
    rule: Annotated[str | None, Query(max_length=128, description="A rule id")] = None,
    employee: Annotated[str | None, Query(max_length=64, description="An employee id")] = None,
    since: Annotated[str | None, Query(max_length=64, description="Decided at or after: 7d, "
                                       "2026-11-01 or an ISO time (by the event's time)")] = None,
    result: Annotated[str | None, Query(max_length=32, description=", ".join(RESULTS))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[DecisionOut]:
    """The decisions, newest first, filtered by rule, employee, time and result."""
    try:
        rows = query_decisions(session, rule=rule, employee=employee,
                               since=since_time(since) if since else None, result=result,
                               limit=limit, offset=offset)
    except ValueError as exc:
        raise _problem("result" if str(exc).startswith("result") else "since",
                       str(exc)) from None
    return [DecisionOut.model_validate(row, from_attributes=True) for row in rows]


def query_decisions(session: Session, *, rule: str | None = None, employee: str | None = None,
                    since: datetime | None = None, result: str | None = None,
                    limit: int = 100, offset: int = 0) -> list[Decision]:
    """Decisions newest first (the API's and the console's); ValueError for an unknown
    result."""
    q = select(Decision)
    if rule:
        q = q.where(Decision.rule_id == rule)
    if employee:
        q = q.where(Decision.employee_id == employee)
    if since:
        q = q.where(Decision.occurred_at >= since)
    if result:
        if result not in RESULTS:
            raise ValueError(f"result: {result!r} is not a result; choose from "
                             f"{', '.join(RESULTS)}")
        q = q.where(Decision.result == result)
    q = q.order_by(Decision.occurred_at.desc(), Decision.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(q))
