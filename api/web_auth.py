"""Console sign-in: password login, the session cookie, CSRF, logout, `CurrentUser`.

The cookie is HttpOnly (scripts never see it), SameSite=Lax (other sites' forms do not send
it) and Secure outside development and test (HTTPS only). Every state-changing request also
carries the session's CSRF token, as a form field `csrf` or an `X-CSRF-Token` header, so
SameSite is not the only line of defence.
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select, text

from wendu.api.web_accounts import (
    SessionUser,
    audit,
    authenticate,
    close_session,
    open_session,
    session_user,
)
from wendu.api.web_ui import page
from wendu.store.models import utcnow
from wendu.store.models_accounts import AuditLog

COOKIE = "wendu_session"
LOGIN_CSRF_COOKIE = "wendu_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
# Sign-in throttling (see `throttled`).
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
# Any fixed number: the namespace of the PostgreSQL advisory locks that serialize sign-ins.
_PG_LOGIN_LOCK = 7_420_312

router = APIRouter(tags=["console"], include_in_schema=False)


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/console/login?next={quote(exc.next_path)}", status_code=303)


def _lookup(request: Request) -> SessionUser | None:
    with request.app.state.session_factory() as session:
        return session_user(session, request.cookies.get(COOKIE))


def optional_user(request: Request) -> SessionUser | None:
    return _lookup(request)


def page_user(request: Request) -> SessionUser:
    """For pages: a signed-in user, else a redirect to the login page."""
    user = _lookup(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


def api_user(request: Request) -> SessionUser:
    """For the console's JSON routes: a signed-in user, else 401."""
    user = _lookup(request)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="sign in first")
    return user


async def check_csrf(request: Request, user: SessionUser) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf")  # type: ignore[assignment]
    if not isinstance(sent, str) or not hmac.compare_digest(sent, user.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing or wrong CSRF token")


async def page_user_csrf(request: Request) -> SessionUser:
    """For form posts from pages: signed in, and the form carries this session's token."""
    user = page_user(request)
    await check_csrf(request, user)
    return user


async def api_user_csrf(request: Request) -> SessionUser:
    user = api_user(request)
    await check_csrf(request, user)
    return user


CurrentUser = Annotated[SessionUser, Depends(page_user)]
PostingUser = Annotated[SessionUser, Depends(page_user_csrf)]
ApiUser = Annotated[SessionUser, Depends(api_user)]
ApiPostingUser = Annotated[SessionUser, Depends(api_user_csrf)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _safe_next(path: str | None) -> str:
    """Where to go after signing in: a console path of this site, never another site's.

    A message's link (`/console/tasks/<id>`) brings an unsigned reader here with it as
    `next`; anything that could leave the site (`//host`, `/\\host`, a scheme, a control
    character a header could split on, `..` out of the console) goes to the task list instead.
    """
    default = "/console/tasks"
    if not path or len(path) > 2000 or any(ord(c) < 0x20 or c in "\\\x7f" for c in path):
        return default
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/"):
        return default
    segments = parts.path.split("/")
    if segments[1:2] != ["console"] or ".." in segments or "." in segments:
        return default
    return path


def _secure(request: Request) -> bool:
    return request.app.state.settings.environment not in ("development", "test")


def serialize_login(session: Any, username: str, ip: str | None) -> None:
    """Makes the throttle check, the password check and the audit row of one sign-in a single
    step for its username and address: concurrent guesses queue up instead of all passing the
    check before any failure is recorded. PostgreSQL: transaction-scoped advisory locks (name
    first, then address, the same order for everyone); SQLite: the database's write lock,
    taken up front with a write that changes nothing."""
    if session.get_bind().dialect.name == "postgresql":
        lock = text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))")
        session.execute(lock, {"ns": _PG_LOGIN_LOCK, "key": f"user:{username}"})
        if ip is not None:
            session.execute(lock, {"ns": _PG_LOGIN_LOCK, "key": f"ip:{ip}"})
    else:
        session.execute(text("DELETE FROM audit_log WHERE 1 = 0"))


def throttled(session: Any, username: str, ip: str | None) -> timedelta | None:
    """How long sign-in stays refused, or None. Failed sign-ins are in the audit log: five for
    one username (since its last success) or twenty from one address within 15 minutes hold
    further tries until the oldest of them is 15 minutes old, against password guessing."""
    since = utcnow() - THROTTLE_WINDOW
    last_ok = session.scalar(select(func.max(AuditLog.at)).where(
        AuditLog.action == "user.login", AuditLog.actor == username))
    failed = select(AuditLog.at).where(AuditLog.action == "user.login_failed")
    start = max(since, last_ok) if last_ok else since
    checks = [(failed.where(AuditLog.actor == username, AuditLog.at >= start),
               MAX_FAILURES_PER_USER)]
    if ip is not None:
        checks.append((failed.where(AuditLog.ip == ip, AuditLog.at >= since),
                       MAX_FAILURES_PER_IP))
    for query, limit in checks:
        recent = session.scalars(query.order_by(AuditLog.at.desc()).limit(limit)).all()
        if len(recent) >= limit:
            return max(recent[-1] + THROTTLE_WINDOW - utcnow(), timedelta(seconds=1))
    return None


def _login_form(request: Request, next: str | None, *, status_code: int = 200,
                error: bool = False, username: str = "", throttled: int | None = None
                ) -> Response:
    """The login form with a fresh pre-session CSRF token (double-submit: the same value in a
    cookie and in the form), so another site cannot sign a victim into its own account."""
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, status_code=status_code,
                    next=_safe_next(next), error=error, username=username, login_csrf=token,
                    throttled=throttled)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/console/login")
    return response


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    if _lookup(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_form(request, next)


@router.post("/console/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="missing or wrong CSRF token: reload the login page")
    factory = request.app.state.session_factory
    name, ip = username.strip(), client_ip(request)
    token = None
    # One transaction from the throttle check to the audit row (see serialize_login).
    with factory.begin() as session:
        serialize_login(session, name[:100], ip)
        wait = throttled(session, name[:100], ip)
        if wait is not None:
            audit(session, name[:100], "user.login_throttled", "user", name[:200], ip=ip)
        elif (user := authenticate(session, name, password)) is None:
            audit(session, name[:100], "user.login_failed", "user", name[:200], ip=ip)
        else:
            token = open_session(session, user)
            audit(session, user.username, "user.login", "user", str(user.id), ip=ip)
    if wait is not None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        response = _login_form(request, next, status_code=429, error=False, username=username,
                               throttled=minutes)
        response.headers["Retry-After"] = str(int(wait.total_seconds()) + 1)
        return response
    if token is None:
        return _login_form(request, next, status_code=401, error=True, username=username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/console/logout")
def logout(request: Request, user: PostingUser) -> RedirectResponse:
    with request.app.state.session_factory.begin() as session:
        close_session(session, request.cookies.get(COOKIE, ""))
        audit(session, user.username, "user.logout", "user", str(user.id), ip=client_ip(request))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/console/api/me")
def me(user: ApiUser) -> dict[str, object]:
    return {"username": user.username, "role": user.role, "employee_id": user.employee_id}
