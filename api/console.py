"""The web console mounted on the API: every console router, /static and the error pages.

Apart from `web_ui` (templates and strings), which each console router imports to render its
pages: this module imports the routers, so neither imports the other back.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from wendu.api.web_ui import HERE, LANG_COOKIE, LANGS, page


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Pages answer errors with a page (same status code); everything else keeps JSON."""
    path = request.url.path
    if not path.startswith("/console/") or path.startswith("/console/api/"):
        return await http_exception_handler(request, exc)
    from wendu.api.web_auth import optional_user

    user = optional_user(request)
    return page(request, "error.html", user, status_code=exc.status_code,
                code=exc.status_code, detail=exc.detail)


def install(app: FastAPI) -> None:
    """Mount the console: login, pages and their JSON routes, and /static."""
    from wendu.api import (
        rule_versions,
        web_audit,
        web_auth,
        web_backtest,
        web_people,
        web_preferences,
        web_rules,
        web_tasks,
    )

    # The console's pages and JSON routes are its own, not the API's: out of openapi.json.
    for router in (web_auth.router, web_tasks.router, web_rules.router, web_people.router,
                   web_backtest.router, web_audit.router, rule_versions.console,
                   web_preferences.router):
        app.include_router(router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "web_static")), name="static")
    app.add_exception_handler(web_auth.LoginRequired, web_auth.to_login)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]

    @app.get("/", include_in_schema=False)
    @app.get("/console", include_in_schema=False)
    @app.get("/console/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/tasks", status_code=303)

    @app.get("/console/lang", include_in_schema=False)
    def switch_language(request: Request, to: str = "en", next: str = "/console/tasks"):
        # Only local paths, so the switch cannot be used to bounce a user to another site.
        target = next if next.startswith("/") and not next.startswith("//") else "/console/tasks"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANG_COOKIE, to if to in LANGS else "zh-CN", samesite="lax",
                            max_age=365 * 24 * 3600)
        return response

    from wendu.api import web_hr

    web_hr.install(app)
