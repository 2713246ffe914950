"""The rule-test file: what an HR author writes to prove a rule does what the team agreed.

    rule: overtime-care-week              # the rule under test
    clock: 2026-11-16T09:00:00+08:00      # when every case starts
    people: {E1: {name: 张伟, manager_id: M1}, M1: {name: 李娜}}   # or `company: demo`
    cases:
      - name: a heavy week tells the manager
        events:                           # in order; time moves forward with them
          - event: attendance.day_closed
            employee: E1
            at: "22:30"                   # today at 22:30; or +2h, or a full timestamp
            repeat: 6                     # six days in a row (`every: 1d`)
            overtime_hours: 4.5           # the event's own fields
          - advance: 3d                   # let three days pass (timers fire)
        expect:
          fired: [E1/2026-W47]
          messages: [{to: M1, contains: 张伟}]

Files are read with the rules' loader, so every problem is a `file:line:col` message.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from wendu.rules.catalog import EVENT_TYPES
from wendu.rules.doc import AuthoringModel
from wendu.rules.doc_problems import validate_doc
from wendu.rules.durations import DurationError, parse_duration
from wendu.rules.errors import RuleError, RuleErrors, suggest
from wendu.rules.loader import LoadedDoc, Loc, load

Texts = str | list[str]
DURATION = "a duration such as 30m, 2h, 3d, 1w"


class MessageDoc(AuthoringModel):
    to: str = Field(description="Employee id of the recipient")
    template: str | None = Field(None, description="Template name, e.g. care_overtime_manager")
    channel: str | None = Field(None, description="inapp, wecom, email or webhook")
    locale: str | None = Field(None, description="zh-CN or en")
    contains: Texts = Field([], description="Text the subject or body must contain")
    not_contains: Texts = Field([], description="Text neither subject nor body may contain")


class TaskDoc(AuthoringModel):
    to: str = Field(description="Employee id the task was first assigned to")
    title_contains: Texts = Field([], description="Text the task's title must contain")
    contains: Texts = Field([], description="Text the task's title or body must contain")
    not_contains: Texts = Field([], description="Text neither title nor body may contain")
    due: str | None = Field(None, description=f"Due this long after it was opened ({DURATION})")
    status: str | None = Field(None, description="open, acknowledged, completed or dismissed")
    escalated_to: str | None = Field(None, description="Employee id it was escalated to")
    escalated_after: str | None = Field(
        None, description=f"Escalated this long after it was opened ({DURATION})")


class ExpectDoc(AuthoringModel):
    fired: bool | int | list[str] | None = Field(
        None, description="yes / no, how many times, or the dedupe keys in firing order")
    messages: list[MessageDoc] | None = Field(
        None, description="Every message of the rule (its tasks' messages included)")
    tasks: list[TaskDoc] | None = Field(None, description="Every task the rule opened")
    waiting: list[str] | None = Field(
        None, description="Event types the rule's workflows wait for now (wait_for)")
    outcomes: dict[str, float | list[float]] | None = Field(
        None, description="Recorded metrics: the value, or the values in order")


class EventDoc(BaseModel):
    """An event; every key other than these is one of the event type's own fields."""

    model_config = {"extra": "allow"}
    event: str = Field(description="Event type from the catalog, e.g. chat.message")
    employee: str = Field(description="Employee id the event is about")
    at: str | datetime | int | None = Field(
        None, description='"HH:MM" today, "+2h" from now, or a timestamp; default: now')
    id: str | None = Field(None, description="Event id (default: generated)")
    repeat: int = Field(1, ge=1, le=366, description="How many times, `every` apart")
    every: str = Field("1d", description=f"Time between repeats ({DURATION})")


class AdvanceDoc(AuthoringModel):
    advance: str = Field(description=f"Let this much time pass ({DURATION})")


class ScheduleDoc(AuthoringModel):
    schedule: str = Field(description="'run': the rule's schedule fires now")


class CheckDoc(AuthoringModel):
    expect: ExpectDoc = Field(description="What must be true at this point")


class CaseDoc(AuthoringModel):
    name: str = Field(description="What the case shows, in a sentence")
    events: list[Any] = Field([], description="Events, `advance`, `schedule` and `expect`")
    expect: ExpectDoc | None = Field(None, description="What must be true at the end")


class RuleTestDoc(AuthoringModel):
    rule: str = Field(description="Id of the rule under test")
    clock: datetime | str = Field(description="When each case starts, e.g. 2026-11-16T09:00+08:00")
    company: str | None = Field(None, description="'demo': the demo company's twelve people")
    people: dict[str, dict[str, Any]] = Field(
        {}, description="Employee id -> employee.hired fields (name, manager_id, locale, ...)")
    cases: list[CaseDoc] = Field(min_length=1)


ITEM_MODELS: dict[str, type[BaseModel]] = {
    "advance": AdvanceDoc, "schedule": ScheduleDoc, "expect": CheckDoc, "event": EventDoc,
}
PERSON_FIELDS = EVENT_TYPES["employee.hired"].fields
EVENT_KEYS = set(EventDoc.model_fields)


class LoadedRuleTest(BaseModel):
    model_config = {"arbitrary_types_allowed": True}
    doc: RuleTestDoc
    loaded: LoadedDoc
    # Per case: its items as models, each with the path it was written at.
    items: list[list[tuple[Loc, BaseModel]]]


def load_rule_test(path: Path | str) -> LoadedRuleTest:
    """Read and check one test file; raise RuleErrors pointing at the YAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleErrors([RuleError(str(path), 0, 0, f"cannot read the file: {exc}")]) from None
    loaded = load(text, str(path))
    if not isinstance(loaded.data, dict):
        raise RuleErrors([loaded.error((), "a rule test needs rule, clock, people (or company) "
                                       "and cases")])
    doc: RuleTestDoc = validate_doc(RuleTestDoc, loaded)
    problems: list[RuleError] = []
    if doc.company not in (None, "demo"):
        problems.append(loaded.error(("company",), "the only company is 'demo'", value=True))
    for pid, fields in doc.people.items():
        for key in fields:
            if key not in PERSON_FIELDS:
                hint = suggest(key, PERSON_FIELDS, "employee fields")
                problems.append(loaded.error(("people", pid, key), f"unknown field '{key}'{hint}"))
    items = []
    for c, case in enumerate(doc.cases):
        parsed = []
        for i, raw in enumerate(case.events):
            where: Loc = ("cases", c, "events", i)
            item = _item(loaded, where, raw, problems)
            if item is not None:
                parsed.append((where, item))
        items.append(parsed)
        if case.expect is None and not any(isinstance(m, CheckDoc) for _, m in parsed):
            problems.append(loaded.error(("cases", c), f"case '{case.name}' expects nothing: "
                                         "add an 'expect:'"))
    if problems:
        raise RuleErrors(problems)
    return LoadedRuleTest(doc=doc, loaded=loaded, items=items)


def _item(loaded: LoadedDoc, where: Loc, raw: Any, problems: list[RuleError]) -> Any:
    kinds = [k for k in ITEM_MODELS if isinstance(raw, dict) and k in raw]
    if not kinds:
        problems.append(loaded.error(where, "each item is an event (event: <type>), "
                                     "advance: <duration>, schedule: run or expect: {...}"))
        return None
    try:
        item = validate_doc(ITEM_MODELS[kinds[0]], _sub(loaded, where))
    except RuleErrors as exc:
        problems.extend(exc.problems)  # positions are the file's
        return None
    if isinstance(item, EventDoc):
        _check_event(loaded, where, item, problems)
    elif isinstance(item, AdvanceDoc):
        _duration(loaded, (*where, "advance"), item.advance, problems)
    elif isinstance(item, ScheduleDoc) and item.schedule != "run":
        problems.append(loaded.error((*where, "schedule"), "write 'schedule: run'", value=True))
    return item


def _check_event(loaded: LoadedDoc, where: Loc, item: EventDoc,
                 problems: list[RuleError]) -> None:
    spec = EVENT_TYPES.get(item.event)
    if spec is None:
        hint = suggest(item.event, EVENT_TYPES, "event types")
        problems.append(loaded.error((*where, "event"), f"unknown event type '{item.event}'{hint}",
                                     value=True))
        return
    for key in item.model_extra or {}:
        if key not in spec.fields:
            hint = suggest(key, [*spec.fields, *EVENT_KEYS], "fields")
            problems.append(loaded.error((*where, key),
                                         f"{item.event} has no field '{key}'{hint}"))
    _duration(loaded, (*where, "every"), item.every, problems)
    if isinstance(item.at, str) and item.at.startswith("+"):
        _duration(loaded, (*where, "at"), item.at[1:], problems)


def _duration(loaded: LoadedDoc, where: Loc, text: str, problems: list[RuleError]) -> None:
    try:
        parse_duration(text)
    except DurationError as exc:
        problems.append(loaded.error(where, str(exc), value=True))


def _sub(loaded: LoadedDoc, prefix: Loc) -> LoadedDoc:
    """The part of `loaded` at `prefix`, as a document of its own with the file's positions."""
    n = len(prefix)

    def cut(table: dict[Loc, Any]) -> dict[Loc, Any]:
        return {k[n:]: v for k, v in table.items() if k[:n] == prefix}

    data: Any = loaded.data
    for part in prefix:
        data = data[part]
    sub = LoadedDoc(data=data, path=loaded.path, text=loaded.text,
                    key_positions=cut(loaded.key_positions),
                    value_positions=cut(loaded.value_positions), styles=cut(loaded.styles))
    sub.value_positions.setdefault((), loaded.value_pos(prefix))
    return sub


def jsonable(value: Any) -> Any:
    """YAML dates and times as the ISO text events carry."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def ruletest_json_schema() -> dict[str, Any]:
    """JSON Schema of a rule-test file, for editors (yaml-language-server) and docs."""
    schema = RuleTestDoc.model_json_schema()
    defs = schema.setdefault("$defs", {})
    refs = []
    for model in ITEM_MODELS.values():
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        defs[model.__name__] = sub
        refs.append({"$ref": f"#/$defs/{model.__name__}"})
    defs["CaseDoc"]["properties"]["events"]["items"] = {"anyOf": refs}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
            "title": "Wendu rule test"}


def schema_text() -> str:
    return json.dumps(ruletest_json_schema(), indent=2, ensure_ascii=False) + "\n"
