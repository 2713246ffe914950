"""Stage 2, its errors: a loaded file validated against the authoring models, every problem
in plain language at its YAML position (`file:line:col`), never a pydantic `loc` tuple.

An unknown key names the valid keys at that place (with the closest one), a step without a
kind lists the kinds, a wrong type says what was expected and what was found.
"""

from __future__ import annotations

import difflib
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from wendu.rules.doc import (
    STEP_KINDS,
    STEP_MODELS,
    AuthoringModel,
    EventTriggerDoc,
    RuleDoc,
    ScheduleTriggerDoc,
)
from wendu.rules.errors import RuleError, RuleErrors, suggest
from wendu.rules.loader import LoadedDoc, Loc


def parse_doc(loaded: LoadedDoc) -> RuleDoc:
    """Validate the shape of a loaded rule; raise RuleErrors pointing at the YAML."""
    if loaded.data is None:
        raise RuleErrors(
            [loaded.error((), "the file is empty; a rule needs id, version, title, trigger, "
                          "dedupe and steps")]
        )
    return validate_doc(RuleDoc, loaded)


def validate_doc(model: type[BaseModel], loaded: LoadedDoc) -> Any:
    """Validate loaded data against an authoring model; RuleErrors point at the YAML."""
    try:
        return model.model_validate(loaded.data)
    except ValidationError as exc:
        raise RuleErrors(_problem(model, loaded, e) for e in exc.errors()) from None


_TAG_MODELS: dict[str, type[AuthoringModel]] = {
    **{f"{kind}_step": model for kind, model in STEP_MODELS.items()},
    "event_trigger": EventTriggerDoc,
    "schedule_trigger": ScheduleTriggerDoc,
}
# The first word of pydantic's type-error kind ("int_parsing", "model_type") -> what we expected.
_MAPPING = "a mapping (key: value lines)"
_EXPECTED = {
    "int": "an integer", "float": "a number", "string": "text", "bool": "true or false",
    "list": "a list", "dict": _MAPPING, "model": _MAPPING,
}


def _problem(model: type[BaseModel], loaded: LoadedDoc, err: Any) -> RuleError:
    raw_loc = tuple(err["loc"])
    loc: Loc = tuple(p for p in raw_loc if p not in _TAG_MODELS)
    kind, value = err["type"], err.get("input")
    # Pydantic marks a problem with a mapping's key (a group name) by a trailing "[key]".
    is_key = bool(loc) and loc[-1] == "[key]"
    loc = loc[:-1] if is_key else loc
    name = _display_name(loc)
    if kind == "extra_forbidden":
        valid = _keys_at(model, raw_loc[:-1])
        hint = suggest(str(loc[-1]), valid, "valid keys here")
        return loaded.error(loc, f"unknown key '{loc[-1]}'{hint}")
    if kind == "missing":
        where = f" in '{_display_name(loc[:-1])}'" if loc[:-1] else ""
        return loaded.error(loc[:-1], f"missing required key '{loc[-1]}'{where}")
    if kind == "step_kind":
        return loaded.error(loc, _step_kind_message(value), value=True)
    if kind == "trigger_kind":
        msg = "'trigger' needs either 'event: <event type>' or 'schedule: \"<cron>\"' (not both)"
        return loaded.error(loc, msg, value=True)
    if kind == "model_type" and not loc:
        return loaded.error((), f"a {model.__name__[:-3].lower()} file must be a mapping of "
                                f"keys to values, got {_show(value)}")
    expected = _EXPECTED.get(kind.split("_")[0])
    if expected and kind.endswith(("_type", "_parsing", "_from_float")):
        return loaded.error(loc, f"'{name}' must be {expected}, got {_show(value)}", value=True)
    if kind == "string_pattern_mismatch":
        subject = "a name" if is_key else f"'{name}'"
        return loaded.error(loc, f"{subject} must use lowercase letters, digits, '-', '_' or '.', "
                                 f"starting with a letter or digit; got {_show(value)}",
                            value=not is_key)
    if kind == "greater_than_equal":
        return loaded.error(loc, f"'{name}' must be at least {err['ctx']['ge']}, got "
                                 f"{_show(value)}", value=True)
    if kind == "too_short":
        return loaded.error(loc, f"'{name}' needs at least one entry", value=True)
    message = err["msg"].removeprefix("Value error, ")
    return loaded.error(loc, f"'{name}': {message}" if name else message, value=True)


def _display_name(loc: Loc) -> str:
    if not loc:
        return ""
    if isinstance(loc[-1], int):
        return f"{_display_name(loc[:-1])}[{loc[-1]}]"
    return str(loc[-1])


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def _step_kind_message(value: Any) -> str:
    kinds = ", ".join(STEP_KINDS)
    if not isinstance(value, dict):
        return f"a step must be a mapping with one of the keys {kinds}; got {_show(value)}"
    found = [k for k in STEP_KINDS if k in value]
    if found:
        return f"a step has exactly one kind, this one has {len(found)}: {', '.join(found)}"
    hint = ""
    for key in value:
        close = difflib.get_close_matches(str(key), STEP_KINDS, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean '{close[0]}' instead of '{key}'?"
            break
    return f"a step needs one of the keys {kinds}{hint}"


def _keys_at(model: type[BaseModel], raw_loc: tuple[Any, ...]) -> list[str]:
    """The keys valid at `raw_loc` (a pydantic loc, union tags included)."""
    current: Any = model
    values_of: Any = None  # set when `current` is a mapping of name -> model (groups)
    for part in raw_loc:
        if part in _TAG_MODELS:
            current = _TAG_MODELS[part]
        elif values_of is not None:
            current, values_of = values_of, None
        elif isinstance(part, str) and current is not None:
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part),
                         None)
            annotation = field.annotation if field else None
            if get_origin(annotation) is dict:
                current, values_of = None, _model_in(get_args(annotation)[1])
            else:
                current = _model_in(annotation)
        # An integer part indexes a list; the next part is the item's union tag.
    return [f.alias or n for n, f in current.model_fields.items()] if current else []


def _model_in(annotation: Any) -> type[AuthoringModel] | None:
    """The body model a field holds directly (`notify: NotifyBody`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, AuthoringModel):
        return annotation
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return _model_in(args[0]) if len(args) == 1 else None
