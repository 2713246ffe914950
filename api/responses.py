"""The error answers every API route may give, documented once in the OpenAPI schema.

Every 4xx is a JSON object with `detail`: a sentence for 401, 403, 404, 409 and 413, and for
422 the list of problems, each naming its field (`field`, the dotted path a producer knows;
`loc`, the same as a list; `msg`; `type`), in the shape of every other validation error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong, in a sentence.")


class Problem(BaseModel):
    field: str | None = Field(None, description="The field, as a dotted path (events[3].data.text)")
    loc: list[str | int] = Field(
        description="The same, as a list, starting with where it was (body, query, path)"
    )
    msg: str
    type: str


class ProblemsOut(BaseModel):
    detail: list[Problem] | str


# Errors are JSON even where the answer itself is not (the WeCom callback answers text/plain).
_JSON: dict[str, Any] = {"application/json": {}}

API_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorOut,
        "content": _JSON,
        "description": "No token, or an unknown or revoked one",
        "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    },
    403: {
        "model": ErrorOut,
        "content": _JSON,
        "description": "The token lacks the route's scope, or is bound to "
        "another person than the one asked about",
    },
    404: {
        "model": ErrorOut,
        "content": _JSON,
        "description": "No such record, or the feature is not configured",
    },
    413: {
        "model": ErrorOut,
        "content": _JSON,
        "description": "The body is over the size limit; nothing was stored",
    },
    422: {
        "model": ProblemsOut,
        "content": _JSON,
        "description": "A field is missing, unknown, of the wrong type, "
        "out of range or too long; nothing was stored",
    },
}

# The WeCom callback carries no token: WeCom's signature over the payload is its credential.
WECOM_ERRORS: dict[int | str, dict[str, Any]] = {
    **{code: answer for code, answer in API_ERRORS.items() if code not in (401, 403)},
    400: {"model": ErrorOut, "content": _JSON,
          "description": "The body is not WeCom's XML (or declares a DTD)"},
    403: {"model": ErrorOut, "content": _JSON,
          "description": "The signature is not WeCom's for this corp, token and AES key"},
    404: {"model": ErrorOut, "content": _JSON,
          "description": "WeCom callbacks are not configured"},
}
