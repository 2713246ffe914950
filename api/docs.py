"""The interactive API docs, /docs (Swagger UI) and /redoc, served from the package.

FastAPI's own pages load their scripts from a CDN, so on a closed HR network they stay blank.
Here every file comes from /static/docs (vendored, with their licences: see its README.md).
Swagger UI is started by a static file rather than FastAPI's inline script, so both pages keep
a Content-Security-Policy that runs only this server's scripts; the one allowance is inline
styles, which both libraries insert at run time (and ReDoc's search runs in a blob: worker).
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

ASSETS = "/static/docs"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": DOCS_POLICY}

_SWAGGER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="{assets}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png">
<title>{title}</title>
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def swagger_ui_html(openapi_url: str, title: str) -> HTMLResponse:
    html = _SWAGGER.format(assets=ASSETS, openapi_url=escape(openapi_url),
                           title=escape(title))
    return HTMLResponse(html, headers=_HEADERS)


def redoc_html(openapi_url: str, title: str) -> HTMLResponse:
    page = get_redoc_html(openapi_url=openapi_url, title=title, with_google_fonts=False,
                          redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
                          redoc_favicon_url=f"{ASSETS}/swagger-ui/favicon-32x32.png")
    return HTMLResponse(page.body, headers=_HEADERS)


def install(app: FastAPI) -> None:
    """/docs and /redoc, for an app created with docs_url=None and redoc_url=None."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return swagger_ui_html(openapi_url, f"{app.title} API")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return redoc_html(openapi_url, f"{app.title} API")
