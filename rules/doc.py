"""Stage 2: the authoring model of a rule file, its JSON Schema, and plain-language errors.

These models check shape only (keys, types, step kinds); names, durations and templates are
checked by the compiler, which has the catalog. Pydantic's errors are mapped back to YAML
positions here so an author never sees a `loc` tuple.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from wendu.rules.errors import RuleError, RuleErrors, suggest
from wendu.rules.loader import LoadedDoc, Loc

STEP_KINDS = ("score", "set", "if", "notify", "assign_task", "wait", "wait_for", "record")
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9\-_.]*$"


def _scalar_text(value: Any) -> Any:
    # YAML turns `value: 1` or `set: {flag: true}` into numbers and booleans; expressions are
    # text, so keep them as the Jinja literal the author meant.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _title(value: Any) -> Any:
    return {"zh": value, "en": value} if isinstance(value, str) else value


ExprText = Annotated[
    str,
    BeforeValidator(_scalar_text, json_schema_input_type=str | int | float | bool),
    Field(description="A Jinja2 expression, e.g. profile.overtime_hours_7d > 20"),
]
DurationText = Annotated[
    str,
    BeforeValidator(_scalar_text, json_schema_input_type=str),
    Field(description="A duration: 90s, 30m, 2h, 1d, 1w, 1d12h, or ISO-8601 P2D / PT4H"),
]
Roles = Annotated[
    list[str],
    BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
    Field(description="employee, manager, skip_manager, hrbp or group:<name>; one or a list"),
]
BindName = Annotated[
    str | None, Field(None, alias="as", description="Name under which later steps see the result")
]


class AuthoringModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TitleDoc(AuthoringModel):
    zh: str = ""
    en: str = ""


Title = Annotated[TitleDoc, BeforeValidator(_title, json_schema_input_type=str | TitleDoc)]


class EventTriggerDoc(AuthoringModel):
    event: str = Field(description="Event type from the catalog, e.g. attendance.day_closed")


class ScheduleTriggerDoc(AuthoringModel):
    schedule: str = Field(description='Five-field cron string, e.g. "0 9 * * MON"')
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the schedule")


def _trigger_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return "event_trigger" if isinstance(value, EventTriggerDoc) else "schedule_trigger"
    if isinstance(value, dict) and ("event" in value) != ("schedule" in value):
        return "event_trigger" if "event" in value else "schedule_trigger"
    return None


TriggerDoc = Annotated[
    Annotated[EventTriggerDoc, Tag("event_trigger")]
    | Annotated[ScheduleTriggerDoc, Tag("schedule_trigger")],
    Discriminator(_trigger_kind, custom_error_type="trigger_kind", custom_error_message="trigger"),
]


def _literal(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if value is None:
        return "none"
    return str(_scalar_text(value))


def _arg_text(value: Any) -> Any:
    # A mapping or list (weights by stage) is data, written as YAML: it becomes the Jinja
    # literal of the same value; a scalar stays an expression.
    return _literal(value) if isinstance(value, dict | list) else _scalar_text(value)


ArgText = Annotated[
    str,
    BeforeValidator(_arg_text, json_schema_input_type=str | int | float | bool | dict | list),
    Field(description="An expression, or a mapping/list of literal values (weights)"),
]


class ScoreStepDoc(AuthoringModel):
    score: str = Field(description="Scorer name, e.g. attrition or burnout")
    with_: dict[str, ArgText] = Field(
        {}, alias="with", description="Arguments the scorer gets as `args`, name: expression"
    )
    as_: BindName


class SetStepDoc(AuthoringModel):
    set: dict[str, ExprText] = Field(min_length=1, description="name: expression")


class TemplateFromDoc(AuthoringModel):
    from_: str = Field(alias="from", description="Name of one of the rule's tables")
    key: ExprText = Field(description="Expression whose value picks the table's entry")


class NotifyBody(AuthoringModel):
    to: Roles
    channels: list[str] = Field(["inapp"], description="Delivery channels, e.g. [inapp]")
    template: str | TemplateFromDoc = Field(
        description="Template folder name under templates/, or {from: <table>, key: <expr>} "
        "to pick it from one of the rule's tables"
    )
    urgent: bool = False
    once_per: Literal["day", "week", "month"] | None = Field(
        None,
        description="Send this template to a person at most once per day, week or month (in "
        "their time zone), whichever rule or firing sends it",
    )
    as_: BindName


class NotifyStepDoc(AuthoringModel):
    notify: NotifyBody


class DoneWhenBody(AuthoringModel):
    event: str = Field(description="Event type that finishes the task, e.g. training.completed")
    match: ExprText | None = Field(
        None, description="Condition on that event (as `event`), e.g. event.course_id == ...")


class AssignTaskBody(AuthoringModel):
    to: str = Field(description="Role of the assignee")
    title: str = Field(description="Task title; may use {{ }} placeholders")
    template: str = "task_assigned"
    due: DurationText
    reminders: list[DurationText] = Field([], description="Reminders, each before the due time")
    escalate_to: Roles = []
    wait: bool = Field(True, description="Whether the rule waits for the task's outcome")
    urgent: bool = Field(
        False, description="Its messages (assignment, reminders, escalation) ignore quiet hours")
    done_when: DoneWhenBody | None = Field(
        None, description="An event about the same employee that completes the task by itself")
    as_: BindName


class AssignTaskStepDoc(AuthoringModel):
    assign_task: AssignTaskBody


class WaitStepDoc(AuthoringModel):
    wait: DurationText


class WaitForBody(AuthoringModel):
    event: str = Field(description="Event type to wait for")
    match: ExprText | None = None
    timeout: DurationText
    on_timeout: list[StepDoc] = []
    as_: BindName


class WaitForStepDoc(AuthoringModel):
    wait_for: WaitForBody


class RecordBody(AuthoringModel):
    metric: str = Field(description="Metric name, e.g. overtime_alerts")
    value: ExprText = "1"


class RecordStepDoc(AuthoringModel):
    record: RecordBody


class IfStepDoc(AuthoringModel):
    if_: ExprText = Field(alias="if")
    then: list[StepDoc] = Field(min_length=1)
    else_: list[StepDoc] = Field([], alias="else")


STEP_MODELS: dict[str, type[AuthoringModel]] = {
    "score": ScoreStepDoc,
    "set": SetStepDoc,
    "if": IfStepDoc,
    "notify": NotifyStepDoc,
    "assign_task": AssignTaskStepDoc,
    "wait": WaitStepDoc,
    "wait_for": WaitForStepDoc,
    "record": RecordStepDoc,
}
_KIND_OF_MODEL: dict[type, str] = {model: kind for kind, model in STEP_MODELS.items()}


def step_kind(step: Any) -> str | None:
    """The kind of a step: the one kind key it carries (None when it has none or several)."""
    if isinstance(step, BaseModel):
        return _KIND_OF_MODEL.get(type(step))
    if isinstance(step, dict):
        kinds = [kind for kind in STEP_KINDS if kind in step]
        if len(kinds) == 1:
            return kinds[0]
    return None


def _step_tag(step: Any) -> str | None:
    kind = step_kind(step)
    return f"{kind}_step" if kind else None


StepDoc = Annotated[
    Annotated[ScoreStepDoc, Tag("score_step")]
    | Annotated[SetStepDoc, Tag("set_step")]
    | Annotated[IfStepDoc, Tag("if_step")]
    | Annotated[NotifyStepDoc, Tag("notify_step")]
    | Annotated[AssignTaskStepDoc, Tag("assign_task_step")]
    | Annotated[WaitStepDoc, Tag("wait_step")]
    | Annotated[WaitForStepDoc, Tag("wait_for_step")]
    | Annotated[RecordStepDoc, Tag("record_step")],
    Discriminator(_step_tag, custom_error_type="step_kind", custom_error_message="step"),
]


def _off(value: Any) -> Any:
    # YAML reads a bare `off` as false; `true` has no meaning for either setting.
    if value is False:
        return "off"
    if value is True:
        raise ValueError("write a value or off, not true")
    return value


class PolicyDoc(AuthoringModel):
    quiet_hours: Annotated[str | None, BeforeValidator(_off)] = Field(
        None, description='Local quiet hours, e.g. "22:00-07:00", or off; default: the setting'
    )
    daily_cap: Annotated[int | str | None, BeforeValidator(_off)] = Field(
        None, description="Non-urgent messages per recipient per day, or off; default: the setting"
    )



class ImpactDoc(AuthoringModel):
    metric: str = Field(description="The outcome: a numeric field of an event type, "
                        "<event type>.<field>", examples=["attendance.day_closed.overtime_hours"])
    better: Literal["lower", "higher"] = Field(description="Which way is an improvement")
class RuleDoc(AuthoringModel):
    id: str = Field(pattern=RULE_ID_PATTERN, description="Unique id, e.g. overtime-care")
    version: int = Field(ge=1, description="Raise it with every change")
    title: Title
    description: str = ""
    owner: str = Field("", description="Who answers for this rule, e.g. hr-ops@example.com")
    enabled: bool = True
    trigger: TriggerDoc
    tables: dict[str, dict[str, str | int | float | bool]] = Field(
        {}, description="Named lookup tables, e.g. guides: {housing_fund_withdrawal: "
        "guide_housing_fund}; expressions see each as a mapping (`label in guides`)"
    )
    when: Annotated[
        list[ExprText],
        BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
        Field(description="Conditions that must all hold"),
    ] = []
    dedupe: str = Field(description="Template of the key that lets the rule fire once per key")
    cooldown: str | None = Field(
        None, description="Per employee: once the rule has fired for someone, it fires nothing "
        "more for them for this long (7d, 12h, P7D), whatever key a later match renders; such "
        "matches are reported as cooldown", examples=["7d"])
    max_age: Annotated[str | None, BeforeValidator(_off)] = Field(
        None, description="Event rules: how old an event may be when it arrives and still fire "
        "the rule (3d, 12h, P7D) or off; older events only update the profile. Default: the "
        "WENDU_MAX_EVENT_AGE setting (3d)")
    steps: list[StepDoc] = Field(min_length=1)
    policy: PolicyDoc | None = Field(
        None, description="Quiet hours and daily cap for this rule's messages"
    )
    holdout: str | float | None = Field(
        None, description="A control group: the share of the people the rule matches whose "
        "actions are held back (10%, 0.1; at most 50%), the same people every time, so the "
        "dashboard can compare acted-on with held-out outcomes. Recorded as held_out, never "
        "shown to them", examples=["10%"])
    impact: ImpactDoc | None = Field(
        None, description="The outcome the dashboard's impact compares before and after the "
        "rule acts (and against its holdout). Default: overtime hours for attendance rules, "
        "satisfaction for survey rules")


for _model in (WaitForBody, IfStepDoc, RuleDoc):
    _model.model_rebuild()


def rule_json_schema() -> dict[str, Any]:
    """JSON Schema of a rule file, for editors (yaml-language-server) and docs."""
    schema = RuleDoc.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "Wendu rule",
    }


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
