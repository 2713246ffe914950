"""Hostile input stops at the door, before any route runs and so before anything is stored.

`InputGuard` (ASGI middleware) reads the request body up to `max_body_bytes` (413 past it,
whatever Content-Length claimed) and refuses with 422, naming the field the way the caller
wrote it (`events[0].data.text`, `offset`), what neither database nor Temporal can hold:
NUL characters and lone surrogates in any string, key, query parameter or path; text over
`max_text_bytes`; integers wider than BIGINT; NaN, infinities and floats past 1e15; and
(`date_problems`, for validated events) dates outside the years 1900-2999. Invalid JSON and
non-UTF-8 bodies get the same 422 shape, as do FastAPI's own validation errors
(`validation_error`):

    {"detail": [{"field": "offset", "loc": ["query", "offset"], "msg": "...", "type": "..."}]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The widest integer column either database holds (BIGINT); SQLite raises OverflowError past
# it and PostgreSQL "bigint out of range".
MAX_INT = 2**63 - 1
# No HR quantity comes near this, and sums of numbers past it (a week of overtime) overflow
# to infinity, which PostgreSQL's JSON cannot hold. NaN fails the comparison too.
MAX_FLOAT = 1e15
# Dates outside these years are a producer's mistake, and past them date arithmetic (time
# zones, windows of days) overflows.
MIN_YEAR, MAX_YEAR = 1900, 2999
# Row ids are INTEGER columns (PostgreSQL: "integer out of range" past 2**31 - 1).
MAX_ROW_ID = 2**31 - 1
# Bounded path and query integers for every route (FastAPI answers out-of-range with 422).
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

# Where in a JSON body a NUL, a lone surrogate, a huge integer or a non-finite number can
# come from: an escape (a raw NUL or surrogate is not valid JSON or UTF-8), a run of 16 digits
# or a two-digit exponent (any number past MAX_FLOAT or BIGINT has one) or a NaN/Infinity
# literal. A body without any (nearly every body) and without text over the limit needs no
# second parse. Plain byte searches: a regex over a body full of dates costs more than the
# parse it would save.
_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_EXPONENT = re.compile(rb"\d[eE][+-]?\d{2}")
_DIGITS_E = bytes(48 if 48 <= b <= 57 else 101 if b in (69, 101) else 32 for b in range(256))


def _suspect(body: bytes) -> bool:
    if b"NaN" in body or b"Infinity" in body:
        return True
    if b"\\u" in body and _ESCAPE.search(body):
        return True
    classes = body.translate(_DIGITS_E)  # digits -> "0", e/E -> "e", the rest -> " "
    if b"0" * 16 in classes:
        return True
    return b"0e" in classes and _EXPONENT.search(body) is not None


_LOCATIONS = ("body", "query", "path", "header", "cookie")
MAX_PROBLEMS = 20


def dotted(loc: Sequence[Any]) -> str:
    """`["events", 0, "data", "text"]` -> `events[0].data.text` (how event errors name fields)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def problem(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    # A key may itself be the bad text: the answer must still be valid UTF-8 JSON.
    loc = [_printable(part) for part in loc]
    field = dotted(loc[1:] if loc and loc[0] in _LOCATIONS else loc) or str(loc[0] if loc else "")
    return {"field": field, "loc": loc, "msg": msg, "type": kind}


def _printable(part: Any) -> Any:
    if not isinstance(part, str):
        return part
    return part.encode("utf-8", "backslashreplace").decode("utf-8")


def text_problem(value: str, max_bytes: int) -> tuple[str, str] | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "NUL characters (U+0000) are not allowed in text", "string_nul"
    if value.isascii():
        size = len(value)
    else:
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError as exc:
            code = ord(value[exc.start])
            return (f"not valid Unicode text: lone surrogate U+{code:04X} at position "
                    f"{exc.start}", "string_surrogate")
    if size > max_bytes:
        return (f"text of {size} bytes is over the limit of {max_bytes} bytes: shorten it or "
                "store it elsewhere and send a reference", "string_too_long")
    return None


def value_problems(value: Any, loc: list[Any], max_text_bytes: int,
                   out: list[dict[str, Any]]) -> None:
    """Appends a problem for each string, key or number under `value` that cannot be stored."""
    if len(out) >= MAX_PROBLEMS:
        return
    if isinstance(value, str):
        if found := text_problem(value, max_text_bytes):
            out.append(problem(loc, *found))
    elif isinstance(value, dict):
        for key, item in value.items():
            if found := text_problem(key, max_text_bytes):
                out.append(problem(loc, f"key {key!r}: {found[0]}", found[1]))
            value_problems(item, [*loc, key], max_text_bytes, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value_problems(item, [*loc, i], max_text_bytes, out)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            out.append(problem(loc, f"integer out of range: at most {MAX_INT} in magnitude",
                               "int_out_of_range"))
    elif isinstance(value, float) and not abs(value) <= MAX_FLOAT:
        out.append(problem(loc, f"number out of range: at most {MAX_FLOAT:g} in magnitude",
                           "float_out_of_range"))


def date_problems(value: Any, loc: list[Any], out: list[dict[str, Any]]) -> None:
    """Appends a problem for each date or datetime under `value` (validated models, dicts,
    lists) outside MIN_YEAR..MAX_YEAR, in its own offset or in UTC."""
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        for key, item in value.items():
            date_problems(item, [*loc, key], out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            date_problems(item, [*loc, i], out)
    elif isinstance(value, date):
        years = [value.year]
        if isinstance(value, datetime) and value.tzinfo is not None:
            try:
                years.append(value.astimezone(UTC).year)
            except OverflowError:
                years.append(0)
        if not all(MIN_YEAR <= year <= MAX_YEAR for year in years):
            out.append(problem(loc, f"date out of range: years {MIN_YEAR} to {MAX_YEAR}",
                               "date_out_of_range"))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _may_hold_long_text(body: bytes, max_bytes: int) -> bool:
    """Whether some JSON string in `body` may decode to more than `max_bytes` of UTF-8. An
    escape only ever shrinks text (`\\u4e2d`: six bytes for three), so a string is no longer
    than the run of bytes between its quotes; with no escaped quote in the body, no such run
    over the limit means no string over it, and a big batch needs no second parse."""
    if len(body) <= max_bytes:
        return False
    return b'\\"' in body or max(map(len, body.split(b'"'))) > max_bytes


def json_problems(body: bytes, max_text_bytes: int) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [problem(["body"], f"not UTF-8: byte 0x{body[exc.start]:02x} at position "
                                  f"{exc.start}", "utf8_invalid")]
    if not _suspect(body) and not _may_hold_long_text(body, max_text_bytes):
        return []
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return [invalid_json(text, exc)]
    out: list[dict[str, Any]] = []
    value_problems(value, ["body"], max_text_bytes, out)
    return out


def invalid_json(doc: str, exc: ValueError) -> dict[str, Any]:
    if isinstance(exc, json.JSONDecodeError):
        msg = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    else:
        msg = f"not valid JSON: {exc}"
    return problem(["body"], msg, "json_invalid")


def form_problems(body: bytes, max_text_bytes: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        for text in (key, value):
            if found := text_problem(text, max_text_bytes):
                out.append(problem(["body", key], *found))
                break
    return out[:MAX_PROBLEMS]


def url_problems(scope: Scope, max_text_bytes: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if "\x00" in scope.get("path", ""):
        out.append(problem(["path"], "NUL characters (U+0000) are not allowed in a URL path",
                           "string_nul"))
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        for text in (key, value):
            if found := text_problem(text, max_text_bytes):
                out.append(problem(["query", key], *found))
                break
    return out[:MAX_PROBLEMS]


class _TooLarge(Exception):
    pass


class InputGuard:
    """Pure ASGI, so a refused body is never handed to a route (see the module docstring).
    Limits come from `app.state.settings` at each request (set in the app's lifespan)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        max_body, max_text = settings.max_body_bytes, settings.max_text_bytes
        if problems := url_problems(scope, max_text):
            await _unprocessable(problems)(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > max_body:
            await _too_large(max_body)(scope, receive, send)
            return
        try:
            body = await _read_body(receive, max_body)
        except _TooLarge:
            await _too_large(max_body)(scope, receive, send)
            return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        problems = []
        if body and (ctype == b"application/json" or ctype.endswith(b"+json")):
            problems = json_problems(body, max_text)
        elif body and ctype == b"application/x-www-form-urlencoded":
            problems = form_problems(body, max_text)
        if problems:
            await _unprocessable(problems)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the route sees an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # only http.disconnect is left to wait for
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body over {limit} bytes: nothing was stored; split the batch"},
        status_code=413,
    )


def _unprocessable(problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": problems}, status_code=422)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation errors (query, path, body) in the shape of every other 422."""
    assert isinstance(exc, RequestValidationError)
    out = []
    for err in exc.errors():
        loc = list(err.get("loc") or [])
        if err.get("type") == "json_invalid":
            pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            doc = exc.body if isinstance(exc.body, str) else ""
            cause = (err.get("ctx") or {}).get("error", "JSON decode error")
            out.append(invalid_json(doc, json.JSONDecodeError(cause, doc, pos)))
            continue
        out.append(problem(loc, str(err.get("msg", "")), str(err.get("type", ""))))
    return JSONResponse({"detail": out}, status_code=422)
