"""Pydantic models of the event catalog: what the API (and any other producer path) accepts.

Built from `rules.catalog.EVENT_TYPES`, so the catalog stays the one source of truth. Errors
name the field the way a producer writes it (`events[3].data.overtime_hours`), and extra
fields are refused rather than dropped: a misspelt optional field should not vanish silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)

from wendu.rules.catalog import EVENT_TYPES, EventType

MAX_BATCH = 1000

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
EmployeeId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventBase(_Strict):
    id: EventId
    type: str
    employee_id: EmployeeId
    occurred_at: AwareDatetime = Field(description="When it happened, with its UTC offset")
    data: Any


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", ".").split("."))


def _data_model(et: EventType) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, spec in et.fields.items():
        if spec.required:
            fields[name] = (spec.type, Field(description=spec.doc))
        else:
            fields[name] = (spec.type | None, Field(default=None, description=spec.doc))
    return create_model(f"{_pascal(et.name)}Data", __base__=_Strict, **fields)


def _event_model(et: EventType) -> type[EventBase]:
    data = _data_model(et)
    required = any(spec.required for spec in et.fields.values())
    tag: Any = Literal[et.name]  # type: ignore[valid-type]
    return create_model(  # type: ignore[call-overload]
        f"{_pascal(et.name)}Event",
        __base__=EventBase,
        __doc__=et.doc,
        type=(tag, ...),
        data=(data, ... if required else Field(default_factory=data)),
    )


EVENT_MODELS: dict[str, type[EventBase]] = {
    name: _event_model(et) for name, et in EVENT_TYPES.items()
}

# One model per event type, chosen by `type` (so errors name the fields of that type only).
# Built at import from the catalog, so it is a runtime value to type checkers.
AnyEvent: Any = Annotated[
    Union[tuple(EVENT_MODELS.values())],  # noqa: UP007
    Field(discriminator="type"),
]


class EventBatch(_Strict):
    events: list[AnyEvent] = Field(max_length=MAX_BATCH)  # type: ignore[valid-type]


_single: TypeAdapter[Any] = TypeAdapter(AnyEvent)
_batch = TypeAdapter(EventBatch)
_list: TypeAdapter[list[Any]] = TypeAdapter(list[AnyEvent])  # type: ignore[valid-type]


class EventValidationError(ValueError):
    """The body is not a valid event or batch; `errors` name each offending field."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['msg']}" for e in errors))


def parse_events(body: Any) -> list[EventBase]:
    """One event object or `{"events": [...]}` -> validated events, else EventValidationError."""
    if isinstance(body, Mapping) and "events" in body:
        events = body["events"]
        if isinstance(events, list) and len(events) > MAX_BATCH:
            # Refused before validating a single item: the size alone decides.
            msg = f"at most {MAX_BATCH} events per request, got {len(events)}; split the batch"
            raise EventValidationError([{"field": "events", "loc": ["events"], "msg": msg,
                                         "type": "too_long"}])
        try:
            return list(_batch.validate_python(body).events)
        except ValidationError as exc:
            raise EventValidationError(_errors(exc)) from None
    if isinstance(body, Mapping):
        try:
            return [_single.validate_python(body)]
        except ValidationError as exc:
            raise EventValidationError(_errors(exc)) from None
    raise EventValidationError(
        [{"field": "", "loc": [], "msg": 'expected an event object or {"events": [...]}',
          "type": "model_type"}]
    )


def parse_event_list(items: Sequence[Any]) -> list[EventBase]:
    """A list of event dicts (or already validated events) -> validated events."""
    raw = [i.model_dump() if isinstance(i, EventBase) else i for i in items]
    try:
        return _list.validate_python(raw)
    except ValidationError as exc:
        raise EventValidationError(_errors(exc)) from None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [part for part in err["loc"] if part not in EVENT_TYPES]  # drop union tags
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
            known = ", ".join(EVENT_TYPES)
            tag = (err.get("ctx") or {}).get("tag")
            msg = f"unknown event type {tag!r}; known types: {known}"
            if err["type"] == "union_tag_not_found":
                msg = "Field required"
        else:
            msg = err["msg"]
        out.append({"field": _dotted(loc), "loc": loc, "msg": msg, "type": err["type"]})
    return out


def _dotted(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
