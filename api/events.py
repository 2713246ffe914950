"""POST /api/v1/events: producers send events; matching rules fire, each once per dedupe key."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, status
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session, sessionmaker

from wendu.api.deps import RulesDep, SessionFactoryDep, SettingsDep, TemporalDep, require_scope
from wendu.event_models import AnyEvent, EventBatch, EventValidationError, parse_events
from wendu.firing import start_firings
from wendu.ingest import EventOutcome, firing_ids, ingest
from wendu.waits import deliver_waits

router = APIRouter(prefix="/api/v1", tags=["events"])


class FiredOut(BaseModel):
    rule_id: str
    workflow_id: str
    dedupe_key: str


class EventResult(BaseModel):
    id: str
    status: Literal["accepted", "duplicate"]
    fired: list[FiredOut]
    already_fired: list[FiredOut]


class EventsResponse(BaseModel):
    results: list[EventResult]


def _body_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body for OpenAPI (validation is done by hand to name fields the producer's
    way): one event or a batch, plus the component schemas they refer to."""
    ref = "#/components/schemas/{model}"
    batch = TypeAdapter(EventBatch).json_schema(ref_template=ref)
    single = TypeAdapter[Any](AnyEvent).json_schema(ref_template=ref)
    defs = {**batch.pop("$defs", {}), **single.pop("$defs", {}), "EventBatch": batch}
    return {"oneOf": [{"$ref": ref.format(model="EventBatch")}, single]}, defs


BODY_SCHEMA, BODY_DEFS = _body_schema()


@router.post(
    "/events",
    response_model=EventsResponse,
    dependencies=[Depends(require_scope("events:write"))],
    openapi_extra={"requestBody": {"required": True,
                                   "content": {"application/json": {"schema": BODY_SCHEMA}}}},
    responses={422: {"description": "A field is missing, unknown or of the wrong type; "
                                    "nothing of the batch was stored"}},
)
async def post_events(
    body: Annotated[Any, Body()],
    factory: SessionFactoryDep,
    rules: RulesDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Store one event or a batch (`{"events": [...]}`, at most 1,000) in one transaction.

    Re-sending an event id is harmless (`duplicate`); a rule fires at most once per dedupe
    key (`already_fired` otherwise). Validation fails the whole batch, naming each field.
    """
    try:
        events = parse_events(body)
    except EventValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=exc.errors) from None
    outcomes = await asyncio.to_thread(_store, factory, events, rules.index)
    # After the commit: a failed start leaves the firing pending for the reconciler.
    await start_firings(temporal, factory, firing_ids(outcomes), settings.task_queue)
    owed = [(wid, o.id) for o in outcomes for wid in o.waiting]
    if owed:
        # Best at once; whatever does not get through stays pending for the reconciler.
        await deliver_waits(temporal, factory, keys=owed)
    return {"results": [o.public() for o in outcomes]}


def _store(factory: sessionmaker[Session], events: list, index: Any) -> list[EventOutcome]:
    with factory.begin() as session:
        return ingest(session, events, index)

