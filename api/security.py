"""Security headers on every response, and the client address behind a trusted proxy.

The console loads only its own files (/static/app.js, /static/app.css: no inline script,
style or event handler anywhere), so its Content-Security-Policy forbids everything else:
an injected `<script>` or `onerror=` would not run even if escaping ever failed. Pages may
not be framed (clickjacking) and URLs, which name employees, do not leak in Referer headers
to other sites. A response that sets its own policy keeps it: the API docs (api/docs.py)
allow the inline styles their libraries insert.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in HEADERS if n not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class TrustedProxies:
    """X-Forwarded-For and X-Forwarded-Proto are believed only from the addresses in
    `WENDU_TRUSTED_PROXIES` (uvicorn's own parser: addresses, networks, `*`); from anyone else
    the connection's address stands, so a forged header cannot dodge the login throttle or
    put a false address in the audit log. `wendu up` turns uvicorn's proxy handling off, so
    this is the only place the headers are read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._proxied: tuple[str, Any] | None = None

    def _for(self, trusted: str) -> Any:
        if self._proxied is None or self._proxied[0] != trusted:
            # uvicorn types its middleware with its own, narrower ASGI types.
            proxied = ProxyHeadersMiddleware(self.app, trusted_hosts=trusted)  # type: ignore[arg-type]
            self._proxied = (trusted, proxied)
        return self._proxied[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        trusted = ""
        if scope["type"] in ("http", "websocket"):
            trusted = scope["app"].state.settings.trusted_proxies.strip()
        app = self._for(trusted) if trusted else self.app
        await app(scope, receive, send)
