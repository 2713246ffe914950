"""HR's everyday tools, mounted on the console: the employee directory, the filtered lists
with their CSV exports and bulk task actions, and mark-all-read in the inbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select, update

from wendu.api.deps import SessionDep
from wendu.api.hr_lists import user_zone
from wendu.api.run_history import run_history
from wendu.api.web_access import mine, not_found, require_hr
from wendu.api.web_auth import ApiPostingUser, ApiUser, CurrentUser
from wendu.api.web_ui import lang_of, page
from wendu.localize import format_datetime
from wendu.store.models import Employee, Notification, Rule, utcnow

router = APIRouter(tags=["console"])
RUN_DAYS = 30  # the window of a rule's run history


@router.get("/console/rules/{rule_id}/runs", response_class=HTMLResponse)
def rule_runs(request: Request, rule_id: str, user: CurrentUser, session: SessionDep,
              fragment: bool = False) -> HTMLResponse:
    """A rule's runs in the last RUN_DAYS and what each came to; the rule page shows the
    fragment in place."""
    require_hr(user)
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise not_found(f"rule {rule_id!r}")
    data = run_history(session, rule, utcnow() - timedelta(days=RUN_DAYS),
                       request.app.state.settings.max_event_age)
    lang, tz = lang_of(request, user), user_zone(session, user)
    ids = {r["employee_id"] for r in data["runs"] if r["employee_id"]}
    names = dict(session.execute(select(Employee.id, Employee.name).where(
        Employee.id.in_(ids))).all()) if ids else {}
    runs = {**data, "days": RUN_DAYS, "names": names,
            "at": lambda value: format_datetime(value, lang, tz)}
    return page(request, "_run_history.html" if fragment else "rule_runs.html", user,
                rule_id=rule_id, runs=runs)


@router.get("/console/api/rules/{rule_id}/runs")
def rule_runs_json(request: Request, rule_id: str, user: ApiUser, session: SessionDep,
                   days: int = RUN_DAYS) -> dict[str, Any]:
    """The rule's runs (newest first, with their outcome), the count of each outcome and the
    stale trigger events, over the last `days`."""
    require_hr(user)
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise not_found(f"rule {rule_id!r}")
    data = run_history(session, rule, utcnow() - timedelta(days=min(max(days, 1), 366)),
                       request.app.state.settings.max_event_age)
    return {**data, "runs": [{**r, "at": r["at"].isoformat()} for r in data["runs"]]}


@router.post("/console/api/notifications/read-all")
def mark_all_read(user: ApiPostingUser, session: SessionDep) -> dict[str, Any]:
    """Marks every unread message of the signed-in user's inbox read; the number marked."""
    result = session.execute(update(Notification).where(
        mine(Notification.recipient_id, user), Notification.channel == "inapp",
        Notification.read_at.is_(None)).values(read_at=utcnow()))
    session.commit()
    return {"marked": int(getattr(result, "rowcount", 0) or 0)}


def install(app: FastAPI) -> None:
    from wendu.api import web_dashboard, web_directory, web_lists

    for module in (web_dashboard, web_directory, web_lists):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(router, include_in_schema=False)
