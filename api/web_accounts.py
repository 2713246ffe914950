"""Console accounts: users, password hashing and sessions (no HTTP here, so the command line
and the demo use the same code as the pages). Every account change writes an audit record
(`wendu.store.audit`) in its own transaction.

argon2id via argon2-cffi: a maintained, memory-hard password hash whose encoded form carries
its own parameters, so `needs_rehash` can upgrade old hashes at the next login.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wendu.localize import DEFAULT_TIMEZONE
from wendu.store.audit import SYSTEM, audit
from wendu.store.models import Employee, utcnow
from wendu.store.models_accounts import USER_ROLES, User, WebSession

__all__ = ["audit"]  # the pages' audit records go through the one writer (wendu.store.audit)

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")
_hasher = PasswordHasher()
# Compared against when the username is unknown, so a wrong name costs as long as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A mistake in an account command, named by field."""


@dataclass(frozen=True)
class SessionUser:
    """The signed-in user as pages and access rules see it (detached from any DB session)."""

    id: int
    username: str
    role: str
    employee_id: str | None
    csrf_token: str
    locale: str
    # The zone the console shows their times in: their employee record's, else the default.
    timezone: str = DEFAULT_TIMEZONE

    @property
    def is_hr(self) -> bool:
        return self.role in ("hr_admin", "hrbp")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _find(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"username: no user {username!r}")
    return user


def create_user(session: Session, username: str, role: str, password: str,
                employee_id: str | None = None, *, actor: str = SYSTEM) -> User:
    """A new active user, audited as `actor`'s change; the caller commits."""
    if not _USERNAME.match(username or ""):
        raise AccountError("username: 2-100 letters, digits or . _ @ -")
    if role not in USER_ROLES:
        raise AccountError(f"role: {role!r} is not one of {', '.join(USER_ROLES)}")
    if role in ("manager", "employee") and not employee_id:
        raise AccountError(f"employee: a {role} account must be linked to an employee id")
    if employee_id and session.get(Employee, employee_id) is None:
        raise AccountError(f"employee: no employee {employee_id!r}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"username: {username!r} exists already")
    user = User(username=username, role=role, employee_id=employee_id,
                password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", "user", str(user.id),
          after={"username": username, "role": role, "employee_id": employee_id})
    return user


def set_password(session: Session, username: str, password: str, *,
                 actor: str = SYSTEM) -> None:
    user = _find(session, username)
    user.password_hash = hash_password(password)
    # A new password signs out every session that used the old one.
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    # Never the hash: only that it changed, and who changed it.
    audit(session, actor, "user.set_password", "user", str(user.id), note=username)


def disable_user(session: Session, username: str, *, actor: str = SYSTEM) -> None:
    user = _find(session, username)
    before = {"active": user.active}
    user.active = False
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit(session, actor, "user.disable", "user", str(user.id), before=before,
          after={"active": False}, note=username)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None (unknown, wrong password or disabled)."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User) -> str:
    """A new session for `user`; returns the cookie value (shown only here)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_digest(token), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(24), created_at=now,
                           expires_at=now + SESSION_LIFETIME))
    # Expired sessions of this user go when they sign in again: no sweeper needed.
    session.execute(delete(WebSession).where(WebSession.user_id == user.id,
                                             WebSession.expires_at < now))
    session.flush()
    return token


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def session_user(session: Session, token: str | None) -> SessionUser | None:
    """The user behind a live session cookie, or None."""
    if not token:
        return None
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    ws, user = row
    if ws.expires_at < utcnow() or not user.active:
        return None
    emp = session.get(Employee, user.employee_id) if user.employee_id else None
    locale = emp.locale if emp is not None and emp.locale else "zh-CN"
    return SessionUser(id=user.id, username=user.username, role=user.role,
                       employee_id=user.employee_id, csrf_token=ws.csrf_token,
                       locale="en" if locale.startswith("en") else "zh-CN",
                       timezone=(emp.timezone if emp is not None else None) or DEFAULT_TIMEZONE)
