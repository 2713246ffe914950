"""A case's clock and its events: times as an author writes them -> events as producers send.

The time-skipping server starts at the real time and only moves forward, so a case whose clock
is earlier runs a whole number of weeks later on the server: weekdays, times of day and ISO
week boundaries stay the author's (a `once_per: week` message counts in the same week), and
events carry the author's own timestamps, so profile windows and dedupe keys are the author's.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from wendu.rules.catalog import EVENT_TYPES
from wendu.rules.durations import parse_duration
from wendu.ruletest.spec import EventDoc, jsonable

WEEK = timedelta(days=7)
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})$")
_TEXT = SandboxedEnvironment(autoescape=False)


def as_clock(value: datetime | str) -> datetime:
    """The file's `clock`; a time without an offset is Shanghai time, as the demo company's."""
    clock = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if clock.tzinfo is None:
        from zoneinfo import ZoneInfo

        clock = clock.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return clock


def server_offset(clock: datetime, server_now: datetime) -> timedelta:
    """Whole weeks to add to the case's clock so it is not behind the server's."""
    behind = server_now - clock
    return WEEK * max(0, math.ceil(behind / WEEK))


def duration(text: str) -> timedelta:
    return timedelta(seconds=parse_duration(text))


def resolve_at(at: str | datetime | int | None, now: datetime) -> datetime:
    """When an event happens: now, "+2h" after now, the next "HH:MM", or a timestamp."""
    tz = now.tzinfo
    if at is None:
        return now
    if isinstance(at, int):  # YAML 1.1 reads an unquoted 22:30 as 1350 (minutes)
        at = f"{at // 60}:{at % 60:02d}"
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=tz)
    text = at.strip()
    if text.startswith("+"):
        return now + duration(text[1:])
    match = _TIME_OF_DAY.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            raise ValueError(f"'{text}' is not a time of day")
        today = now.astimezone(tz)
        candidate = datetime.combine(today.date(), time(hour, minute), tz)
        return candidate if candidate >= now else candidate + timedelta(days=1)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def local_date(moment: datetime, tz: tzinfo | None) -> date:
    return moment.astimezone(tz).date()


def event_times(doc: EventDoc, now: datetime) -> list[datetime]:
    first = resolve_at(doc.at, now)
    step = duration(doc.every)
    return [first + step * n for n in range(doc.repeat)]


def build_event(doc: EventDoc, at: datetime, n: int, default_id: str) -> dict[str, Any]:
    """One event as a producer posts it. Text fields may use {{ day }} (the local date),
    {{ time }} (the timestamp) and {{ n }} (1 for the first of a repeat); a required `day`
    field left out is the event's local date."""
    day = at.date().isoformat()
    names = {"day": day, "time": at.isoformat(), "n": n}
    data = {k: _render(jsonable(v), names) for k, v in (doc.model_extra or {}).items()}
    spec = EVENT_TYPES[doc.event]
    if "day" in spec.fields and spec.fields["day"].required and "day" not in data:
        data["day"] = day
    base = doc.id or default_id
    return {
        "id": base if n == 1 else f"{base}-{n}",
        "type": doc.event,
        "employee_id": doc.employee,
        "occurred_at": at.isoformat(),
        "data": data,
    }


def _render(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str) and "{{" in value:
        return _TEXT.from_string(value).render(names)
    if isinstance(value, dict):
        return {k: _render(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, names) for v in value]
    return value


PERSON_DEFAULTS: dict[str, Any] = {
    "hired_on": "2022-03-01", "locale": "zh-CN", "timezone": "Asia/Shanghai",
}


def hire_events(people: dict[str, dict[str, Any]], company: str | None,
                clock: datetime) -> list[dict[str, Any]]:
    """The case's people as `employee.hired` events: the demo company's, then the file's."""
    events: list[dict[str, Any]] = []
    if company == "demo":
        from wendu.demo.company import hire_events as demo_hires

        events = demo_hires()
    by_id = {e["employee_id"]: e for e in events}
    at = (clock - timedelta(minutes=1)).isoformat()
    for pid, fields in people.items():
        known = by_id.get(pid)
        base = known["data"] if known else {**PERSON_DEFAULTS, "name": pid}
        data = {**base, **jsonable(fields)}
        event = {"id": f"hire-{pid}", "type": "employee.hired", "employee_id": pid,
                 "occurred_at": at, "data": data}
        if known is not None:
            events[events.index(known)] = event
        else:
            events.append(event)
    return events


def known_people(people: dict[str, Any], company: str | None) -> set[str]:
    ids = set(people)
    if company == "demo":
        from wendu.demo.company import COMPANY

        ids |= {p.id for p in COMPANY}
    return ids
