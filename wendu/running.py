"""Where a running `wendu up` serves, so commands on the same data dir find it.

`wendu up` writes `running-api.json` into its data dir once the API answers (its URL, its
process id and the quiet hours it runs with) and removes it when it stops. `wendu demo ...`
reads it: no `--url` is needed when the server listens elsewhere than the default, and a
hint about messages held by quiet hours is given only when the server has quiet hours on.
A file left by a server that died is ignored (its process is gone).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE = "running-api.json"


def announce(data_dir: Path, url: str, quiet_hours: str) -> None:
    path = data_dir / FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "quiet_hours": quiet_hours}),
                   encoding="utf-8")
    tmp.replace(path)


def forget(data_dir: Path) -> None:
    """Removes the file, if it is this process's (another `wendu up` may have taken over)."""
    found = running(data_dir)
    if found is not None and found["pid"] == os.getpid():
        (data_dir / FILE).unlink(missing_ok=True)


def running(data_dir: Path) -> dict[str, Any] | None:
    """{"url", "pid", "quiet_hours"} of the `wendu up` serving this data dir, or None."""
    try:
        found = json.loads((data_dir / FILE).read_text(encoding="utf-8"))
        pid, url = int(found["pid"]), str(found["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # left by a server that died
    except PermissionError:
        pass  # alive, another user's
    return {"url": url, "pid": pid, "quiet_hours": str(found.get("quiet_hours", ""))}


def api_url(url: str | None, data_dir: Path, host: str, port: int) -> str:
    """`--url` if given, else the running server's, else the configured host and port."""
    if url:
        return url
    found = running(data_dir)
    return found["url"] if found is not None else f"http://{host}:{port}"


def server_quiet_hours(data_dir: Path, base_url: str) -> str | None:
    """The quiet hours of the server at `base_url`, when it is this data dir's; else None
    (unknown)."""
    found = running(data_dir)
    if found is None or found["url"].rstrip("/") != base_url.rstrip("/"):
        return None
    return found["quiet_hours"]
