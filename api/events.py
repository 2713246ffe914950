"""POST /api/v1/events: producers send events; matching rules fire, each once per dedupe key.

The request ends at the commit: the workflows of new firings are started, and events owed to
waiting workflows are signalled, by the app's background starter (`wendu.starter`), so a
slow or absent Temporal never holds a producer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, status
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wendu.api.deps import (
    RulesDep,
    ScorersDep,
    SessionFactoryDep,
    SettingsDep,
    StarterDep,
    require_scope,
)
from wendu.api.input_limits import problem
from wendu.decide import FastScorers
from wendu.event_models import AnyEvent, EventBatch, EventValidationError, parse_events
from wendu.ingest import EventOutcome, firing_ids, ingest
from wendu.store.models import Firing

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
    status: Literal["accepted", "duplicate"]
    fired: list[QueuedOut] = Field(description="Rules this event fired, each queued to start.")
    already_fired: list[FiredOut] = Field(
        description="Rules that matched but had fired for the same dedupe key before."
    )


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
    try:
        outcomes = await asyncio.to_thread(
            _store, factory, events, rules.index, scorers, settings.max_workflow_input_bytes
        )
    except _InputTooLarge as exc:
        batch = isinstance(body, dict) and "events" in body
        detail = [problem(["body", "events", i] if batch else ["body"], msg,
                          "workflow_input_too_large") for i, msg in exc.errors]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None
    # Committed: whatever the starter does not get to (a crash, an outage) stays pending in the
    # store for the reconciler, so handing over is all the request has to do.
    starter.submit(firing_ids(outcomes), [(wid, o.id) for o in outcomes for wid in o.waiting])
    return {"results": [_public(o) for o in outcomes]}


def _public(outcome: EventOutcome) -> dict[str, Any]:
    out = outcome.public()
    out["fired"] = [{**f, "status": "queued"} for f in out["fired"]]
    return out


class _InputTooLarge(Exception):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors  # (position of the event in the batch, message)


def _store(
    factory: sessionmaker[Session], events: list, index: Any, scorers: FastScorers,
    max_input: int,
) -> list[EventOutcome]:
    with factory.begin() as session:
        outcomes = ingest(session, events, index, scorers)
        if errors := _oversized_inputs(session, outcomes, max_input):
            raise _InputTooLarge(errors)  # rolls the whole batch back
        return outcomes


def _oversized_inputs(
    session: Session, outcomes: list[EventOutcome], max_input: int
) -> list[tuple[int, str]]:
    """A problem for each event whose firing's workflow input Temporal would refuse: stored,
    it could only fail to start, again and again, and its rule would never run."""
    ids = firing_ids(outcomes)
    if not ids:
        return []
    position = {o.id: i for i, o in enumerate(outcomes)}
    errors = []
    q = select(Firing.rule_id, Firing.event_id, Firing.context).where(Firing.id.in_(ids))
    for rule_id, event_id, context in session.execute(q):
        size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode())
        if size > max_input:
            errors.append((position.get(event_id or "", 0),
                           f"rule {rule_id!r} would start a workflow with {size} bytes of "
                           f"input, over the limit of {max_input}: send shorter text"))
    return sorted(errors)

