"""POST /api/v1/events: producers send events; matching rules fire, each once per dedupe key.

The request ends at the commit: the workflows of new firings are started, and events owed to
waiting workflows are signalled, by the app's background starter (`wendu.starter`), so a
slow or absent Temporal never holds a producer.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wendu.api.deps import (
    RulesDep,
    ScorersDep,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    StarterDep,
    TokenDep,
    require_scope,
)
from wendu.api.input_limits import Offset, date_problems, problem
from wendu.decide import FastScorers
from wendu.event_examples import event_example, request_examples
from wendu.event_models import (
    EVENT_MODELS,
    AnyEvent,
    EventBatch,
    EventValidationError,
    parse_events,
)
from wendu.ingest import EventOutcome, firing_ids, ingest
from wendu.settings import Settings
from wendu.sqlbatch import chunks
from wendu.store.db import one_writer
from wendu.store.models import Employee, Event, Firing

router = APIRouter(prefix="/api/v1", tags=["events"])


class FiredOut(BaseModel):
    rule_id: str
    workflow_id: str
    dedupe_key: str


class QueuedOut(FiredOut):
    status: Literal["queued"] = Field(
        "queued",
        description="The firing is committed and its workflow is to be started after the "
        "response: look the workflow id up in Temporal, or the firing in the console, to see "
        "it run. A Temporal outage delays the start, never loses it.",
    )


class EventResult(BaseModel):
    id: str
    status: Literal["accepted", "duplicate", "unknown_employee", "stale"] = Field(
        description="`unknown_employee`: stored and folded into the profile like any other, "
        "but no employee.* event has announced this employee yet; listed at "
        "`GET /api/v1/events?status=unknown_employee` until one arrives. `stale`: stored and "
        "folded, but it arrived older than the freshness window (`max_age`) of every rule "
        "it could fire, so it fired nothing: history is not news."
    )
    fired: list[QueuedOut] = Field(description="Rules this event fired, each queued to start.")
    already_fired: list[FiredOut] = Field(
        description="Rules that matched but had fired for the same dedupe key before."
    )
    stale: list[str] = Field(
        [], description="Rules not evaluated for this event: it arrived older than their "
        "`max_age`.")


class EventsResponse(BaseModel):
    results: list[EventResult]


def _body_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body for OpenAPI (validation is done by hand to name fields the producer's
    way): one event or a batch, plus the component schemas they refer to."""
    ref = "#/components/schemas/{model}"
    batch = TypeAdapter(EventBatch).json_schema(ref_template=ref)
    single = TypeAdapter[Any](AnyEvent).json_schema(ref_template=ref)
    defs = {**batch.pop("$defs", {}), **single.pop("$defs", {}), "EventBatch": batch}
    for name, model in EVENT_MODELS.items():
        defs[model.__name__]["examples"] = [event_example(name)]
    return {"oneOf": [{"$ref": ref.format(model="EventBatch")}, single]}, defs


BODY_SCHEMA, BODY_DEFS = _body_schema()


@router.post(
    "/events",
    response_model=EventsResponse,
    dependencies=[Depends(require_scope("events:write"))],
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": BODY_SCHEMA, "examples": request_examples()}}}},
    responses={
        413: {"description": "The body is over the size limit; nothing was stored"},
        422: {"description": "A field is missing, unknown, of the wrong type or too long, or "
                             "a rule it fires would get a workflow input too large to run; "
                             "nothing of the batch was stored"},
    },
)
async def post_events(
    body: Annotated[Any, Body()],
    factory: SessionFactoryDep,
    rules: RulesDep,
    starter: StarterDep,
    scorers: ScorersDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Store one event or a batch (`{"events": [...]}`, at most 1,000) in one transaction.

    Re-sending an event id is harmless (`duplicate`); a rule fires at most once per dedupe
    key (`already_fired` otherwise). Validation fails the whole batch, naming each field.

    The answer comes once the batch is committed: each fired rule is `"status": "queued"`,
    its workflow started just after, in the background. Temporal being slow or down does not
    delay the answer; the firing is started when Temporal is back.
    """
    try:
        events = parse_events(body)
    except EventValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=exc.errors) from None
    batch = isinstance(body, dict) and "events" in body
    out_of_range: list[dict[str, Any]] = []
    for i, event in enumerate(events):
        date_problems(event, ["body", "events", i] if batch else ["body"], out_of_range)
    if out_of_range:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=out_of_range)
    try:
        outcomes, unknown = await asyncio.to_thread(_store, factory, events, rules.index,
                                                    scorers, settings)
    except _Refused as exc:
        detail = [problem(["body", *(["events", i] if batch else []), *loc], msg, kind)
                  for i, loc, msg, kind in exc.errors]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None
    # Committed: whatever the starter does not get to (a crash, an outage) stays pending in the
    # store for the reconciler, so handing over is all the request has to do.
    starter.submit(firing_ids(outcomes), [(wid, o.id) for o in outcomes for wid in o.waiting])
    return {"results": [_public(o, e.employee_id in unknown)
                        for o, e in zip(outcomes, events, strict=True)]}


class StoredEventOut(BaseModel):
    id: str
    type: str
    employee_id: str
    occurred_at: datetime
    received_at: datetime
    status: Literal["accepted", "unknown_employee"]


def _may_list(token: TokenDep) -> None:
    # The producer fixing its feed, or HR's administrative token. Only the envelope is
    # listed: the data of feedback and chat events stays behind the audited console view.
    if not {"events:write", "rules:admin"} & set(token.scopes or []):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"token {token.name!r} lacks the 'events:write' or "
                                   "'rules:admin' scope")


@router.get("/events", response_model=list[StoredEventOut], dependencies=[Depends(_may_list)])
def list_events(
    session: SessionDep,
    status_: Annotated[Literal["accepted", "unknown_employee"] | None,
                       Query(alias="status")] = None,
    employee: str | None = None,
    type_: Annotated[str | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[StoredEventOut]:
    """Stored events, newest first (the envelope, not the data). `status=unknown_employee`:
    events about an employee id no employee.* event has announced, for HR to chase; each
    leaves the list once the employee arrives, its history already in the profile."""
    q = select(Event, Employee.id).outerjoin(Employee, Employee.id == Event.employee_id)
    if status_ == "unknown_employee":
        q = q.where(Employee.id.is_(None))
    elif status_ == "accepted":
        q = q.where(Employee.id.is_not(None))
    if employee:
        q = q.where(Event.employee_id == employee)
    if type_:
        q = q.where(Event.type == type_)
    q = q.order_by(Event.received_at.desc(), Event.id).limit(limit).offset(offset)
    return [
        StoredEventOut(id=e.id, type=e.type, employee_id=e.employee_id,
                       occurred_at=e.occurred_at, received_at=e.received_at,
                       status="accepted" if known else "unknown_employee")
        for e, known in session.execute(q)
    ]


def _public(outcome: EventOutcome, unknown_employee: bool) -> dict[str, Any]:
    out = outcome.public()
    out["fired"] = [{**f, "status": "queued"} for f in out["fired"]]
    if unknown_employee and out["status"] == "accepted":
        out["status"] = "unknown_employee"
    return out


class _Refused(Exception):
    """The batch is rolled back; each error is (position in the batch, location inside the
    event, message, type)."""

    def __init__(self, errors: list[tuple[int, list[str], str, str]]) -> None:
        self.errors = errors


def _store(
    factory: sessionmaker[Session], events: list, index: Any, scorers: FastScorers,
    settings: Settings,
) -> tuple[list[EventOutcome], set[str]]:
    """Ingest in one transaction; returns the outcomes and the employee ids of the batch no
    employee.* event has announced. Raises _Refused (rolling everything back) for a firing
    Temporal would refuse, and for unknown employees when they are to be rejected."""
    with one_writer(factory), factory.begin() as session:
        outcomes = ingest(session, events, index, scorers)
        errors = _oversized_inputs(session, outcomes, settings.max_workflow_input_bytes)
        unknown = _unknown_employees(session, events, outcomes)
        if settings.unknown_employees == "reject":
            errors += [
                (i, ["employee_id"], f"no employee {e.employee_id!r}: send the employee's "
                 "employee.hired event first, or in the same batch", "unknown_employee")
                for i, (e, o) in enumerate(zip(events, outcomes, strict=True))
                if e.employee_id in unknown and o.status == "accepted"
            ]
        if errors:
            raise _Refused(sorted(errors))
        return outcomes, unknown


def _unknown_employees(session: Session, events: list, outcomes: list[EventOutcome]) -> set[str]:
    ids = {e.employee_id for e, o in zip(events, outcomes, strict=True) if o.status == "accepted"}
    known: set[str] = set()
    for chunk in chunks(sorted(ids)):
        known.update(session.scalars(select(Employee.id).where(Employee.id.in_(chunk))))
    return ids - known


def _oversized_inputs(
    session: Session, outcomes: list[EventOutcome], max_input: int
) -> list[tuple[int, list[str], str, str]]:
    """An error for each event whose firing's workflow input Temporal would refuse: stored,
    it could only fail to start, again and again, and its rule would never run."""
    ids = firing_ids(outcomes)
    if not ids:
        return []
    position = {o.id: i for i, o in enumerate(outcomes)}
    errors: list[tuple[int, list[str], str, str]] = []
    q = select(Firing.rule_id, Firing.event_id, Firing.context).where(Firing.id.in_(ids))
    for rule_id, event_id, context in session.execute(q):
        size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode())
        if size > max_input:
            errors.append((position.get(event_id or "", 0), [],
                           f"rule {rule_id!r} would start a workflow with {size} bytes of "
                           f"input, over the limit of {max_input}: send shorter text",
                           "workflow_input_too_large"))
    return errors
