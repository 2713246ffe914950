"""The FastAPI application: events in, tasks and notifications out, rules administered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.client import Client

from wendu import __version__
from wendu.api import (
    console,
    decisions,
    docs,
    events,
    firings,
    impact,
    notifications,
    preferences,
    rule_versions,
    rules,
    task_snooze,
    tasks,
    wecom,
)
from wendu.api.input_limits import InputGuard, validation_error
from wendu.api.responses import API_ERRORS, WECOM_ERRORS
from wendu.api.rules import reload_rules
from wendu.api.security import SecurityHeaders, TrustedProxies
from wendu.decide import FastScorers, warm_up_scorers
from wendu.firing import Reconciler
from wendu.settings import Settings, get_settings
from wendu.starter import Starter
from wendu.store.db import make_engine, make_session_factory, upgrade

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, temporal_client: Client | None = None
) -> FastAPI:
    """The API. Its lifespan migrates the database, loads the rule folder, connects Temporal
    (unless a client is given), makes the rule schedules match and runs the background
    starter (new firings and owed signals) and the reconciler (what a crash left behind)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cfg = settings or get_settings()
        engine = make_engine(cfg.sqlalchemy_url)
        try:
            await asyncio.to_thread(upgrade, engine)
            factory = make_session_factory(engine)
            client = temporal_client
            if client is None:
                from wendu.temporal import connect

                client = await connect(cfg.temporal_address, cfg.temporal_namespace)
            app.state.settings = cfg
            app.state.engine = engine
            app.state.session_factory = factory
            app.state.temporal = client
            app.state.reload_lock = asyncio.Lock()
            result, loaded = await reload_rules(cfg, factory, client)
            if not result.ok:
                log.error("some rules did not load; their previous versions stay in force")
            app.state.rules = loaded
            log.info("%d rule(s) enabled", len(loaded.plans))
            # The worker's scorers (same data dir, same model versions) decide which rules fire.
            app.state.scorers = FastScorers.default(cfg.data_dir)
            if any(plan.fast_scores for plan in loaded.plans):
                # The first chat message should not wait for a text model to load or train.
                warm_up_scorers(app.state.scorers.registry)
            retry = cfg.firing_retry_seconds
            starter = Starter(client, factory, cfg.task_queue, retry_seconds=retry)
            reconciler = Reconciler(client, factory, cfg.task_queue, retry,
                                    busy=lambda: starter.busy)
            app.state.starter, app.state.reconciler = starter, reconciler
            starter.start()
            reconciler.start()
            try:
                yield
            finally:
                # The reconciler first: the starter's last drain is then the only one running.
                await reconciler.stop()
                await starter.stop()
        finally:
            engine.dispose()

    app = FastAPI(
        title="Wendu",
        version=__version__,
        summary="HR automation: events in, rules fire durable workflows, managers act on tasks.",
        lifespan=lifespan,
        # Served from the package by wendu.api.docs: FastAPI's pages load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    for module in (events, tasks, notifications, preferences, rules, firings, decisions, impact):
        app.include_router(module.router, responses=API_ERRORS)
    app.include_router(task_snooze.router, responses=API_ERRORS)
    app.include_router(wecom.router, responses=WECOM_ERRORS)
    app.include_router(rule_versions.api, responses=API_ERRORS)
    console.install(app)  # the web console: /console pages, their JSON routes, /static
    docs.install(app)  # /docs and /redoc, their scripts from /static/docs
    app.add_exception_handler(RequestValidationError, validation_error)
    # Outermost last: the real client address first, then headers on every answer (the
    # guard's 413 and 422 too), then the input limits before any route reads a byte.
    app.add_middleware(InputGuard)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedProxies)

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request) -> JSONResponse:
        """Liveness and readiness: the database answers, Temporal is reachable."""
        checks: dict[str, Any] = {}
        try:
            await asyncio.to_thread(_ping_db, request.app.state.engine)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            await asyncio.wait_for(request.app.state.temporal.service_client.check_health(), 5)
            checks["temporal"] = "ok"
        except Exception as exc:
            checks["temporal"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        body = {"status": "ok" if ok else "degraded", "version": __version__, **checks,
                "rules": len(request.app.state.rules.plans)}
        return JSONResponse(body, status_code=200 if ok else 503)

    _document_event_schemas(app)
    return app


def _ping_db(engine: Any) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _document_event_schemas(app: FastAPI) -> None:
    """Adds the event catalog's schemas, which the hand-validated events body refers to."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = default_openapi()
        schema.setdefault("components", {}).setdefault("schemas", {}).update(events.BODY_DEFS)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
