"""Dependencies shared by the routers: database session, Temporal client, rules, auth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from wendu.decide import FastScorers
from wendu.rules.plan import Plan
from wendu.settings import Settings
from wendu.starter import Starter
from wendu.store.models import ApiToken
from wendu.tokens import SCOPES, verify_token


@dataclass
class LoadedRules:
    """The enabled rules and their index; replaced as a whole on reload."""

    plans: list[Plan] = field(default_factory=list)
    index: Any = None


# Dependencies that only read the app's state are `async def`: FastAPI runs a plain `def` one
# in its thread pool, a round trip through the pool and the event loop for each, and a post
# needs seven of them.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    return request.app.state.temporal


async def get_starter(request: Request) -> Starter:
    return request.app.state.starter


async def get_rules(request: Request) -> LoadedRules:
    return request.app.state.rules


async def get_scorers(request: Request) -> FastScorers:
    return request.app.state.scorers


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
StarterDep = Annotated[Starter, Depends(get_starter)]
RulesDep = Annotated[LoadedRules, Depends(get_rules)]
ScorersDep = Annotated[FastScorers, Depends(get_scorers)]

_bearer = HTTPBearer(auto_error=False, description="An API token: `wendu tokens create`")


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


def _token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    with request.app.state.session_factory.begin() as session:
        token = verify_token(session, credentials.credentials)
        if token is None:
            raise _unauthorized("unknown or revoked token")
        session.expunge(token)
        return token


TokenDep = Annotated[ApiToken, Depends(_token)]


def act_as(token: ApiToken, actor_id: str | None) -> None:
    """403 unless `token` may act or read as `actor_id`: a token bound to an actor
    (`wendu tokens create --actor`) only as itself, an unbound one as anyone."""
    if token.actor_id is not None and actor_id != token.actor_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"token {token.name!r} acts only as {token.actor_id!r}, not {actor_id!r}",
        )


def require_scope(scope: str) -> Callable[..., Awaitable[ApiToken]]:
    """A dependency that admits a live token carrying `scope` (401 without one, 403 without
    the scope)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(token: TokenDep) -> ApiToken:
        if scope not in (token.scopes or []):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"token {token.name!r} lacks the {scope!r} scope",
            )
        return token

    check.__name__ = f"require_{scope.replace(':', '_')}"
    return check
