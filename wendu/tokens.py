"""API tokens: random bearer secrets shown once; only their sha256 is stored.

A token carries scopes; each route asks for one. sha256 (not a slow password hash) is right
here because the secret is 256 random bits, not something a person chose and could reuse; the
stored digest is found by its unique index and compared again in constant time.

A token may be bound to an actor (an employee id): a `tasks:act` token then acts only as that
person and a `notifications:read` token reads only their inbox, so a chat bot or a personal
integration cannot act or read for anyone else. Unbound tokens are integration-wide. Creating
and revoking a token are audited (`wendu.store.audit`), never with the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.store.audit import SYSTEM, audit
from wendu.store.models import ApiToken, Employee, utcnow

SCOPES: dict[str, str] = {
    "events:write": "Post events (HRIS, attendance, surveys, ...)",
    "tasks:act": "List tasks and act on them (acknowledge, complete, dismiss)",
    "notifications:read": "Read in-app notifications and mark them read",
    "rules:admin": "List rules and reload them from the rule folder",
}
PREFIX = "wdu_"
# last_used_at is informative; writing it on every request would serialize readers on SQLite.
_TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    pass


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(session: Session, name: str, scopes: Iterable[str], *,
                 actor_id: str | None = None, actor: str = SYSTEM) -> str:
    """Create a token and return its plaintext: the only time it can be seen. `actor_id`
    binds it to an employee; `actor` is who creates it, for the audit log."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise TokenError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not name.strip():
        raise TokenError("a token needs a name")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists; revoke it first or pick another name")
    if actor_id is not None and session.get(Employee, actor_id) is None:
        raise TokenError(f"--actor: no employee {actor_id!r}; a token acts for a known person")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(plaintext), scopes=scopes,
                     actor_id=actor_id)
    session.add(token)
    session.flush()
    audit(session, actor, "token.create", "api_token", str(token.id),
          after={"name": name, "scopes": scopes, "actor_id": actor_id})
    return plaintext


def verify_token(session: Session, plaintext: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not plaintext:
        return None
    digest = hash_token(plaintext)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        token.last_used_at = now
    return token


def revoke_token(session: Session, name: str, *, actor: str = SYSTEM) -> bool:
    """Revoke by name; False when no live token has that name."""
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    # Frees the name for a replacement token while the revoked one stays listed for audit.
    suffix = f" (revoked #{token.id})"
    token.name = name[: 100 - len(suffix)] + suffix
    audit(session, actor, "token.revoke", "api_token", str(token.id),
          before={"name": name, "revoked": False}, after={"name": token.name, "revoked": True})
    return True


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))
