"""The command line's view of a running Wendu API: JSON in and out, errors as one line.

The demo commands and `wendu rules history|diff|rollback` talk to the API as any producer or
release script would, with a bearer token (`--token`, `WENDU_TOKEN`, else the demo token in the
data dir), so what they can do is what the token's scopes allow and every change is audited
under the token's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEMO_TOKEN_HINT = ("create the demo token in {data_dir} with `wendu demo load` "
                   "(or `wendu up --demo`)")


class ApiClient:
    """Calls the API; a refused or failed request is a `UserError` naming what went wrong."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        from wendu.cli.common import UserError

        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise UserError(
                f"cannot reach the Wendu API at {self.http.base_url}: is `wendu up` running "
                "there?"
            ) from None
        except httpx.HTTPError as exc:
            raise UserError(
                f"{method} {self.http.base_url}{path.lstrip('/')} failed: {exc}") from None
        if response.status_code >= 400:
            what = "refused the token" if response.status_code in (401, 403) else "answered"
            raise UserError(f"the API {what} ({response.status_code}): {detail(response)}")
        return response.json()


@contextmanager
def api_client(base_url: str, token: str | None, data_dir: Path,
               hint: str = DEMO_TOKEN_HINT) -> Iterator[ApiClient]:
    """A client for `base_url` with `token` (or the demo token of `data_dir`); `hint` says
    how to get a token when there is none."""
    import httpx

    from wendu.cli.common import UserError
    from wendu.demo.company import read_token

    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise UserError(f"--url {base_url!r} is not an http(s) URL, e.g. http://127.0.0.1:8000")
    token = token or read_token(data_dir)
    if not token:
        raise UserError("no token: pass --token, or " + hint.format(data_dir=data_dir))
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=15) as http:
        yield ApiClient(http)


def detail(response: Any) -> str:
    """The API's reason in one readable piece: its message, then the problems it lists."""
    try:
        found = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(found, dict) and "message" in found:
        return "\n  ".join([str(found["message"]), *map(str, found.get("problems") or ())])
    if isinstance(found, list):  # FastAPI's 422: [{"loc": [...], "msg": ...}, ...]
        return "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}"
                         for e in found if isinstance(e, dict))[:300]
    return str(found)[:300]
