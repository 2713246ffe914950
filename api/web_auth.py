"""Console sign-in: password login, the session cookie, CSRF, logout, `CurrentUser`.

The cookie is HttpOnly (scripts never see it), SameSite=Lax (other sites' forms do not send
it) and Secure outside development and test (HTTPS only). Every state-changing request also
carries the session's CSRF token, as a form field `csrf` or an `X-CSRF-Token` header, so
SameSite is not the only line of defence.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wendu.api.web_accounts import (
    SessionUser,
    audit,
    authenticate,
    close_session,
    open_session,
    session_user,
)
from wendu.api.web_ui import page

COOKIE = "wendu_session"
LOGIN_CSRF_COOKIE = "wendu_login_csrf"
CSRF_HEADER = "X-CSRF-Token"

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
    if path and path.startswith("/console") and not path.startswith("//"):
        return path
    return "/console/tasks"


def _secure(request: Request) -> bool:
    return request.app.state.settings.environment not in ("development", "test")


def _login_form(request: Request, next: str | None, *, status_code: int = 200,
                error: bool = False, username: str = "") -> Response:
    """The login form with a fresh pre-session CSRF token (double-submit: the same value in a
    cookie and in the form), so another site cannot sign a victim into its own account."""
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, status_code=status_code,
                    next=_safe_next(next), error=error, username=username, login_csrf=token)
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
    with factory.begin() as session:
        user = authenticate(session, username.strip(), password)
        if user is None:
            audit(session, username.strip()[:100], "user.login_failed", "user",
                  username.strip()[:200], ip=client_ip(request))
            token = None
        else:
            token = open_session(session, user)
            audit(session, user.username, "user.login", "user", str(user.id),
                  ip=client_ip(request))
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
