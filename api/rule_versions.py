"""Rule versions: history, diff and rollback, in the console (HR) and the API (rules:admin).

Every stored version is listed with who stored it, when, and how often it fired. Two versions
compare side by side in the console, as a unified diff in the API. Rolling back makes an old
version current: its text is checked with today's compiler and catalog first (what goes live
must compile now), then stored, written to the rule folder and audited like an upload, so the
next event fires it while workflows already running finish on the version they started with.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from wendu.api.deps import SessionDep, require_scope
from wendu.api.web_access import not_found, require_hr, require_roles
from wendu.api.web_auth import CurrentUser, PostingUser
from wendu.api.web_dryrun import check_text
from wendu.api.web_rule_checks import rule_groups
from wendu.api.web_rules import store_version
from wendu.api.web_ui import page
from wendu.ruleversions import VersionError, diff, find_version, history, side_by_side
from wendu.store.models import ApiToken, Rule

api = APIRouter(prefix="/api/v1/rules", tags=["rules"])
console = APIRouter(tags=["console"])
RulesAdmin = Annotated[ApiToken, Depends(require_scope("rules:admin"))]


class RollbackBody(BaseModel):
    version: str = Field(description="A version number (the latest text with it) or a digest "
                                     "prefix of at least 4 characters", examples=["1"])
    reason: str = Field(default="", max_length=500, description="Why, for the audit log")


class RollbackProblem(Exception):
    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.problems = message, problems or []


async def rollback(request: Request, session: Session, actor: str, rule_id: str,
                   name: str, reason: str = "") -> Any:
    """Make version `name` of the rule current again; returns its compiled plan."""
    try:
        old = find_version(session, rule_id, name)
    except VersionError as exc:
        raise RollbackProblem(str(exc)) from None
    rule = session.get(Rule, rule_id)
    if rule is not None and rule.current_digest == old.digest:
        raise RollbackProblem(f"{rule_id} v{old.version} ({old.digest[:8]}) is the current "
                              "version already")
    checked = check_text(old.source_text, rule.source_path or f"{rule_id}.yaml",
                         str(request.app.state.settings.templates_path), rule_groups(request))
    errors = [p for p in checked.problems if getattr(p, "is_error", True)]
    if checked.plan is None or errors:
        raise RollbackProblem(f"{rule_id} v{old.version} no longer compiles; fix it in a new "
                              "version instead", [str(p) for p in errors])
    await store_version(request, session, actor, checked.plan, old.source_text,
                        action="rule.rollback", note=reason or None)
    return checked.plan


def _lookup(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except VersionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


# --- API -----------------------------------------------------------------------------------


@api.get("/{rule_id}/versions", responses={404: {"description": "No such rule"}})
def list_versions(rule_id: str, session: SessionDep, _: RulesAdmin) -> list[dict[str, Any]]:
    """Every stored version of the rule, oldest first: number, digest, when, who, whether it
    is current, and how many firings ran it."""
    return [v.as_dict() for v in _lookup(history, session, rule_id)]


@api.get("/{rule_id}/diff", responses={404: {"description": "No such rule or version"}})
def diff_versions(rule_id: str, session: SessionDep, _: RulesAdmin,
                  old: Annotated[str, Query(max_length=64)],
                  new: Annotated[str, Query(max_length=64)]) -> dict[str, Any]:
    """A unified diff between two versions (`old`, `new`: numbers or digest prefixes)."""
    return {"rule_id": rule_id, "old": old, "new": new,
            "diff": _lookup(diff, session, rule_id, old, new)}


@api.post("/{rule_id}/rollback", responses={
    404: {"description": "No such rule or version"},
    409: {"description": "That version is current already"},
    422: {"description": "That version no longer compiles"}})
async def rollback_api(rule_id: str, body: RollbackBody, request: Request, session: SessionDep,
                       token: RulesAdmin) -> dict[str, Any]:
    """Make an old version current again (audited under the token's name)."""
    try:
        plan = await rollback(request, session, f"token:{token.name}", rule_id, body.version,
                              body.reason)
    except RollbackProblem as exc:
        code = (status.HTTP_404_NOT_FOUND if "has no version" in exc.message
                or exc.message.startswith("no rule") else status.HTTP_409_CONFLICT
                if "current version already" in exc.message
                else status.HTTP_422_UNPROCESSABLE_CONTENT)
        raise HTTPException(code, detail={"message": exc.message, "problems": exc.problems}) \
            from None
    return {"rule_id": rule_id, "version": plan.version, "digest": plan.digest}


# --- console -------------------------------------------------------------------------------


@console.get("/console/rules/{rule_id}/versions", response_class=HTMLResponse)
def versions_page(request: Request, rule_id: str, user: CurrentUser, session: SessionDep,
                  old: Annotated[str | None, Query(max_length=64)] = None,
                  new: Annotated[str | None, Query(max_length=64)] = None,
                  rolled_back: Annotated[str | None, Query(max_length=16)] = None
                  ) -> HTMLResponse:
    """The versions of a rule, and two of them side by side (`old`, `new`)."""
    require_hr(user)
    try:
        versions = history(session, rule_id)
        compared = None
        if old and new:
            a, b = find_version(session, rule_id, old), find_version(session, rule_id, new)
            compared = {"old": a, "new": b, "rows": side_by_side(a.source_text, b.source_text)}
    except VersionError as exc:
        raise not_found(str(exc)) from None
    return page(request, "rule_versions.html", user, rule_id=rule_id,
                versions=list(reversed(versions)), compared=compared, rolled_back=rolled_back,
                can_edit=user.role == "hr_admin")


@console.post("/console/rules/{rule_id}/rollback", response_class=HTMLResponse)
async def rollback_form(request: Request, rule_id: str, user: PostingUser, session: SessionDep,
                        version: Annotated[str, Form(max_length=64)],
                        reason: Annotated[str, Form(max_length=500)] = "") -> Any:
    require_hr(user)
    require_roles(user, "hr_admin", what="changing rules")
    try:
        plan = await rollback(request, session, user.username, rule_id, version, reason)
    except RollbackProblem as exc:
        versions = list(reversed(_lookup(history, session, rule_id)))
        return page(request, "rule_versions.html", user, status_code=409, rule_id=rule_id,
                    versions=versions, compared=None, rolled_back=None, can_edit=True,
                    problem=exc.message, problems=exc.problems)
    return RedirectResponse(f"/console/rules/{rule_id}/versions?rolled_back={plan.version}",
                            status_code=303)
