"""The demo's scenarios: one per situation of the rule library, posted through the HTTP API.

`wendu demo scenario NAME` posts a scenario's events (or runs a scheduled rule now) as a
producer would, then shows which rules fired and the messages and tasks that followed. Event
ids depend only on the employee and the day, so posting a scenario again the same day is a
no-op: the events are known, nothing fires twice.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from wendu.demo.company import (
    COMPANY,
    TIMEZONE,
    attendance_day,
    held_hint,
    overtime_week_events,
    quiet_hint,
)

CHANNELS = ("inapp", "wecom", "email")
RECENT = 500  # the most the API lists at once; a demo has far fewer messages and tasks
Build = Callable[[str, date], list[dict[str, Any]]]


def _event(eid: str, etype: str, employee_id: str, at: datetime, **data: Any) -> dict[str, Any]:
    return {"id": eid, "type": etype, "employee_id": employee_id,
            "occurred_at": at.isoformat(), "data": data}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(TIMEZONE))


def heavy_days(today: date) -> tuple[date, int]:
    """(last day, how many) of the late days the overtime scenario posts.

    The rule trips on the fifth late day within seven, once per ISO week, and only on an
    event younger than its freshness window (3 days): the fifth day must be recent, and the
    days must not fire two weeks. From Wednesday the six days end today (the ones before
    Monday are too few to trip last week); on Monday and Tuesday five days end on Sunday, so
    the one that trips is at most two days old."""
    if today.weekday() >= 2:
        return today, 6
    return today - timedelta(days=today.weekday() + 1), 5


def overtime(employee_id: str, today: date) -> list[dict[str, Any]]:
    """The project's progress, then five or six late, overtime-heavy days (智能考勤预警)."""
    end, days = heavy_days(today)
    progress = _event(f"demo-project-{employee_id}-{end.isoformat()}", "project.progress",
                      employee_id, _at(end - timedelta(days=days), 18),
                      project_id="P-PAY", project_name="支付网关重构 Payment gateway",
                      percent_done=65.0)
    return [progress, *overtime_week_events(employee_id, end, days=days)]


SURVEY_WEEKS = (16, 12, 8, 4)  # earlier pulse surveys, weeks before today: steady and good


def steady_overtime(employee_id: str, today: date, weeks: int = 4) -> list[dict[str, Any]]:
    """Weekdays of the last `weeks` weeks with 2.5 h overtime each, out at 20:30: a month of
    load that never trips the weekly overtime rule but weighs on the attrition score."""
    days = (today - timedelta(days=back) for back in range(weeks * 7, 0, -1))
    return [attendance_day(employee_id, day, time(20, 30), 2.5)
            for day in days if day.weekday() < 5]


def satisfaction_drop(employee_id: str, today: date) -> list[dict[str, Any]]:
    """A month of long days, steady pulse surveys, two pieces of feedback about the workload,
    then a sharp drop in satisfaction."""
    events = steady_overtime(employee_id, today)
    for weeks in SURVEY_WEEKS:
        day = today - timedelta(weeks=weeks)
        events.append(_event(f"demo-survey-{employee_id}-{day.isoformat()}", "survey.response",
                             employee_id, _at(day, 10), survey_id=f"pulse-{day.isoformat()}",
                             satisfaction=4.5))
    feedback = ["最近需求变更太频繁，连续几周加班到很晚，工作量实在太大了。",
                "The workload this month is too heavy and deadlines keep moving."]
    for n, text in enumerate(feedback, 1):
        day = today - timedelta(days=10 * n)
        events.append(_event(f"demo-feedback-{employee_id}-{day.isoformat()}",
                             "feedback.submitted", employee_id, _at(day, 17), text=text,
                             channel="survey"))
    events.append(_event(f"demo-survey-{employee_id}-{today.isoformat()}", "survey.response",
                         employee_id, _at(today, 10), survey_id=f"pulse-{today.isoformat()}",
                         satisfaction=2.0))
    return events


def _chat(employee_id: str, today: date, hour: int, text: str, tag: str) -> dict[str, Any]:
    return _event(f"demo-chat-{employee_id}-{today.isoformat()}-{tag}", "chat.message",
                  employee_id, _at(today, hour), text=text, channel="wecom")


def housing_fund(employee_id: str, today: date) -> list[dict[str, Any]]:
    """Two questions to the HR assistant the same day: one guide, not two (员工需求预测)."""
    return [_chat(employee_id, today, 10, "公积金怎么提取？想用来付房租", "1"),
            _chat(employee_id, today, 11, "请问住房公积金提取需要准备哪些材料", "2")]


def certificate(employee_id: str, today: date) -> list[dict[str, Any]]:
    """A search in the HR portal, in English."""
    return [_event(f"demo-search-{employee_id}-{today.isoformat()}", "search.query", employee_id,
                   _at(today, 14), text="employment certificate letter for my visa application")]


def resignation(employee_id: str, today: date) -> list[dict[str, Any]]:
    """Resignation intent: a private signal for HR, never for the manager."""
    return [_chat(employee_id, today, 16, "我在考虑辞职，离职需要提前多久申请？", "resign")]


def review(employee_id: str, today: date) -> list[dict[str, Any]]:
    """A review with one weak dimension: a course to-do and the personal scorecard."""
    period = f"{today.year}H{1 if today.month <= 6 else 2}"
    return [_event(f"demo-review-{employee_id}-{period}", "performance.review", employee_id,
                   _at(today, 15), period=period, overall=3.2,
                   scores={"customer_focus": 2.0, "delivery": 4.0, "teamwork": 3.5,
                           "new_product_share": 3.0})]


def new_hire(employee_id: str, today: date) -> list[dict[str, Any]]:
    """Someone joins today: check-in tasks for the manager at 30, 60 and 90 days."""
    return [_event(f"demo-hire-{employee_id}", "employee.hired", employee_id, _at(today, 9),
                   name="林晓", email="lin.xiao@wendu-demo.example", manager_id="E1002",
                   hrbp_id="E1005", department="研发部", title="后端工程师 Backend Engineer",
                   hired_on=today.isoformat(), hometown_city="杭州", work_city="上海",
                   locale="zh-CN", timezone=TIMEZONE, wecom_userid="linxiao",
                   preferred_channels=["wecom"])]


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    employee: str
    build: Build | None = None
    # A scheduled rule to run now instead of posting events.
    run_rule: str | None = None

    def watched(self, employee_id: str) -> list[str]:
        """Whose inbox and tasks to show: the employee, their manager and HR."""
        manager = next((p.manager_id for p in COMPANY if p.id == employee_id), "E1002")
        people = [employee_id, manager or "", "E1005", "E1006"]
        if self.run_rule:
            people = [p.id for p in COMPANY]
        return list(dict.fromkeys(p for p in people if p))


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("overtime", "a late, overtime-heavy week: the manager and the employee hear of it",
             "E1004", overtime),
    Scenario("satisfaction-drop", "satisfaction falls: feedback read, a course assigned",
             "E1007", satisfaction_drop),
    Scenario("housing-fund", "a housing-fund question in chat: the guide for their city, once",
             "E1009", housing_fund),
    Scenario("certificate", "an English search for an employment certificate: the guide",
             "E1008", certificate),
    Scenario("resignation", "resignation intent in chat: HR is told privately", "E1012",
             resignation),
    Scenario("review", "a review with a weak dimension: a course to-do and the scorecard",
             "E1010", review),
    Scenario("new-hire", "someone joins: check-ins for the manager at 30/60/90 days", "E1013",
             new_hire),
    Scenario("attrition-scan", "run the weekly attrition scan now: retention tasks", "E1004",
             run_rule="attrition-scan-weekly"),
]}


def describe() -> str:
    width = max(map(len, SCENARIOS))
    return "\n".join(f"  {s.name:<{width}}  {s.summary} (default {s.employee})"
                     for s in SCENARIOS.values())


# --- running one through the HTTP API ----------------------------------------------------


def overtime_week(base_url: str, token: str | None, data_dir: Path, employee_id: str,
                  wait: float, end: date | None = None) -> None:
    """Post six late days for one employee (five early in the week, so the day that trips the
    rule is recent), then show what fired and the messages it sent."""
    from wendu.cli.api import api_client

    days = 6
    if end is None:
        end, days = heavy_days(datetime.now(ZoneInfo(TIMEZONE)).date())
    events = overtime_week_events(employee_id, end, days=days)
    manager = next((p.manager_id for p in COMPANY if p.id == employee_id), None)
    people = [employee_id, *([manager] if manager else [])]
    with api_client(base_url, token, data_dir) as http:
        seen = snapshot(http, people)
        typer.echo(f"{employee_id}: {events[0]['data']['day']} .. {events[-1]['data']['day']}, "
                   "4h overtime each, out at 22:30")
        if post_events(http, events) and not show_new(http, people, seen, wait):
            typer.echo(held_hint(data_dir, base_url))


def run_scenario(base_url: str, token: str | None, data_dir: Path, name: str,
                 employee_id: str | None, wait: float, today: date | None = None) -> None:
    from wendu.cli.api import api_client
    from wendu.cli.common import UserError

    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise UserError(f"no scenario {name!r}; the scenarios are:\n{describe()}")
    who = employee_id or scenario.employee
    today = today or datetime.now(ZoneInfo(TIMEZONE)).date()
    with api_client(base_url, token, data_dir) as http:
        people = scenario.watched(who)
        seen = snapshot(http, people)
        if scenario.run_rule:
            body = http.call("POST", f"/api/v1/rules/{scenario.run_rule}/run")
            typer.echo(f"ran {body['rule_id']} now (schedule {body['schedule_id']})")
            if not show_new(http, people, seen, wait):
                typer.echo("  nothing new: nobody crossed the rule's threshold who was not "
                           "reached this week already")
                held = quiet_hint(data_dir, base_url)
                if held:
                    typer.echo(held)
        else:
            assert scenario.build is not None
            if post_events(http, scenario.build(who, today)) and not show_new(
                    http, people, seen, wait):
                typer.echo(held_hint(data_dir, base_url))


def post_events(http: Any, events: list[dict[str, Any]]) -> bool:
    """Post the events; print what was new and what fired. True when a rule fired."""
    body = http.call("POST", "/api/v1/events", json={"events": events})
    outcomes = body.get("results", [])
    new = sum(1 for o in outcomes if o.get("status") != "duplicate")
    stale = sum(1 for o in outcomes if o.get("status") == "stale")
    typer.echo(f"posted {len(events)} events: {new} new, {len(events) - new} already known")
    if stale:
        typer.echo(f"  {stale} of them too old to fire a rule (history: folded into the "
                   "profile, nobody notified)")
    fired = [f for o in outcomes for f in o.get("fired", [])]
    if not fired:
        typer.echo("no rule fired")
    for f in fired:
        typer.echo(f"fired: {f['rule_id']}  (workflow {f['workflow_id']})")
    return bool(fired)


def snapshot(http: Any, people: list[str]) -> set[str]:
    return {key for key, _ in _items(http, people)}


def _items(http: Any, people: list[str]) -> list[tuple[str, str]]:
    """(key, line) for the latest messages and tasks of `people`: one request per channel
    and one for tasks, however many people are watched."""
    watched, out = set(people), []
    for channel in CHANNELS:
        for n in http.call("GET", "/api/v1/notifications",
                           params={"channel": channel, "limit": RECENT}):
            if n["recipient_id"] in watched:
                out.append((f"n{n['id']}", f"  -> {n['recipient_id']} [{n['channel']}, "
                                            f"{n['status']}] {n['subject']}"))
    for t in http.call("GET", "/api/v1/tasks", params={"limit": RECENT}):
        if t["assignee_id"] in watched:
            out.append((f"t{t['id']}", f"  task for {t['assignee_id']}: {t['title']} "
                                       f"(due {t['due_at'][:10]})"))
    return out


def show_new(http: Any, people: list[str], seen: set[str], wait: float) -> int:
    """Print messages and tasks that appear within `wait` seconds; returns how many."""
    shown: set[str] = set()
    deadline = clock.monotonic() + wait
    quiet_since = clock.monotonic()
    while clock.monotonic() < deadline:
        for key, line in _items(http, people):
            if key not in seen and key not in shown:
                shown.add(key)
                quiet_since = clock.monotonic()
                typer.echo(line)
        if shown and clock.monotonic() - quiet_since > 3:
            break  # nothing more for a while: the workflows are done or waiting
        clock.sleep(0.5)
    return len(shown)
