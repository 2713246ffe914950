"""HR's lists with filters and CSV export: all tasks (with bulk acknowledge and dismiss),
firings (with what each run came to) and notifications.

The task list is HR's (every task) and a manager's (theirs and their reports', as "My tasks"
scopes them); firings and notifications are HR's. `?format=csv` downloads what the page
shows, audited (web_csv.py). A bulk action takes each task through the one console path
(web_tasks.act_on): the workflow decides each, and each is audited as if clicked alone.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep
from wendu.api.hr_lists import (
    LIMIT,
    ListFilters,
    firing_rows,
    notification_rows,
    task_rows,
    user_zone,
)
from wendu.api.run_history import FIRING_OUTCOMES
from wendu.api.web_access import check_task, forbidden, require_hr
from wendu.api.web_accounts import SessionUser
from wendu.api.web_auth import CurrentUser, PostingUser
from wendu.api.web_csv import csv_export
from wendu.api.web_task_lists import people
from wendu.api.web_task_words import refusal
from wendu.api.web_tasks import ConsoleAction, act_on
from wendu.api.web_ui import lang_of, page, t
from wendu.localize import format_datetime
from wendu.store.models import Notification, Rule
from wendu.titles import title_in

router = APIRouter(tags=["console"])
Text = Annotated[str, Query(max_length=200)]
TASK_STATUSES = ("open", "acknowledged", "completed", "dismissed")
FIRING_STATUSES = ("pending", "started", "failed", "held_out")
NOTE_STATUSES = ("pending", "delivered", "failed", "digest")
MAX_BULK = LIMIT  # every task the list shows may be ticked at once


def _filters(status: str, rule: str, employee: str, since: str, until: str,
             overdue: bool = False, outcome: str = "", channel: str = "") -> ListFilters:
    return ListFilters(status=status.strip(), rule=rule.strip(), employee=employee.strip(),
                       since=since.strip(), until=until.strip(), overdue=overdue,
                       outcome=outcome.strip(), channel=channel.strip())


def _render(request: Request, session: Session, user: SessionUser, which: str,
            rows: list[dict[str, Any]], f: ListFilters, tz: str, fmt: str,
            **ctx: Any) -> Response:
    lang = lang_of(request, user)
    if fmt == "csv":
        if f.error:
            raise HTTPException(422, detail=t(f.error, lang))
        return csv_export(request, session, user, which, rows, f, lambda k: t(k, lang), tz)
    rules = sorted(session.scalars(select(Rule.id)))
    export = urlencode({**f.params(), "format": "csv"})
    return page(request, f"list_{which}.html", user, which=which, rows=rows, f=f, rules=rules,
                export_query=export, back_query=urlencode(f.params()), people=people(session),
                at=lambda value: format_datetime(value, lang, tz) if value else "–", **ctx)


@router.get("/console/all-tasks", response_class=HTMLResponse)
def all_tasks(request: Request, user: CurrentUser, session: SessionDep, status: Text = "",
              rule: Text = "", employee: Text = "",
              since: Annotated[str, Query(alias="from", max_length=10)] = "",
              until: Annotated[str, Query(alias="to", max_length=10)] = "",
              overdue: bool = False, format: Literal["html", "csv"] = "html") -> Response:
    if not user.is_hr and user.role != "manager":
        raise forbidden("the task list")
    f = _filters(status, rule, employee, since, until, overdue)
    tz = user_zone(session, user)
    rows = task_rows(session, user, f, tz, lang_of(request, user))
    return _render(request, session, user, "tasks", rows, f, tz, format,
                   statuses=TASK_STATUSES, bulk=None)


@router.post("/console/all-tasks/bulk", response_class=HTMLResponse)
async def bulk(request: Request, user: PostingUser, session: SessionDep,
               action: Annotated[Literal["acknowledge", "dismiss"], Form()],
               task_id: Annotated[list[str], Form(max_length=MAX_BULK)] = [],  # noqa: B006
               reason: Annotated[str, Form(max_length=5000)] = "",
               back: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """HR acknowledges or dismisses the ticked tasks: dismiss needs a reason, checked before
    any task is touched; then each goes through the one task action path and is audited."""
    require_hr(user, "bulk task actions")
    lang = lang_of(request, user)
    ids = list(dict.fromkeys(i for i in task_id if i))[:MAX_BULK]
    problem = None
    if not ids:
        problem = t("bulk_none_selected", lang)
    elif action == "dismiss" and len(reason.strip()) < 2:
        problem = t("bulk_need_reason", lang)
    done: list[str] = []
    failed: list[tuple[str, str, str]] = []  # id, title, why (in the reader's language)
    if problem is None:
        body = ConsoleAction(action=action, comment=reason.strip() or None)
        for tid in ids:
            title = tid
            try:
                task = check_task(session, user, tid)
                title = title_in(task.title, task.titles, lang)
                await act_on(request, user, session, task, body,
                             note=f"bulk {action} of {len(ids)} tasks")
                done.append(tid)
            except HTTPException as exc:
                session.rollback()
                failed.append((tid, title, refusal(exc.detail, lang)))
    f = _back_filters(back)
    tz = user_zone(session, user)
    result = {"done": done, "failed": failed, "problem": problem, "reason": reason}
    response = _render(request, session, user, "tasks", task_rows(session, user, f, tz, lang),
                       f, tz, "html", statuses=TASK_STATUSES, bulk=result)
    response.status_code = 422 if problem else 200
    return response


def _back_filters(back: str) -> ListFilters:
    """The filters the bulk form was posted from (its page's query string)."""
    q = {k: v[0] for k, v in parse_qs(back).items()}
    return _filters(q.get("status", ""), q.get("rule", ""), q.get("employee", ""),
                    q.get("from", ""), q.get("to", ""), q.get("overdue") == "1")


@router.get("/console/firings", response_class=HTMLResponse)
def firings(request: Request, user: CurrentUser, session: SessionDep, status: Text = "",
            rule: Text = "", employee: Text = "", outcome: Text = "", counted: bool = False,
            since: Annotated[str, Query(alias="from", max_length=10)] = "",
            until: Annotated[str, Query(alias="to", max_length=10)] = "",
            format: Literal["html", "csv"] = "html") -> Response:
    require_hr(user, "firings")
    f = _filters(status, rule, employee, since, until, outcome=outcome)
    f.counted = counted
    tz = user_zone(session, user)
    return _render(request, session, user, "firings", firing_rows(session, f, tz), f, tz,
                   format, statuses=FIRING_STATUSES, outcomes=FIRING_OUTCOMES)


@router.get("/console/notifications", response_class=HTMLResponse)
def notifications(request: Request, user: CurrentUser, session: SessionDep, status: Text = "",
                  rule: Text = "", employee: Text = "", channel: Text = "",
                  since: Annotated[str, Query(alias="from", max_length=10)] = "",
                  until: Annotated[str, Query(alias="to", max_length=10)] = "",
                  format: Literal["html", "csv"] = "html") -> Response:
    require_hr(user, "notifications")
    f = _filters(status, rule, employee, since, until, channel=channel)
    tz = user_zone(session, user)
    channels = sorted(session.scalars(select(Notification.channel).distinct()))
    return _render(request, session, user, "notifications", notification_rows(session, f, tz),
                   f, tz, format, statuses=NOTE_STATUSES, channels=channels)

