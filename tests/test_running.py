"""`wendu demo` finds the `wendu up` of its data dir (wendu/running.py), and blames quiet
hours for a missing message only when that server has them on and it is night."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from wendu.demo.company import TIMEZONE, held_hint
from wendu.running import FILE, announce, api_url, forget, running

URL = "http://127.0.0.1:8765"


def _window_around_now() -> str:
    now = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE))
    return f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"


def test_demo_commands_find_the_running_server_without_url(tmp_path):
    assert api_url(None, tmp_path, "127.0.0.1", 8000) == "http://127.0.0.1:8000"
    announce(tmp_path, URL, "off")
    assert running(tmp_path) == {"url": URL, "pid": os.getpid(), "quiet_hours": "off"}
    assert api_url(None, tmp_path, "127.0.0.1", 8000) == URL
    assert api_url("http://elsewhere:9", tmp_path, "127.0.0.1", 8000) == "http://elsewhere:9"
    forget(tmp_path)
    assert not (tmp_path / FILE).exists()


def test_a_file_left_by_a_server_that_died_is_ignored(tmp_path):
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)  # a process id nobody has now
    (tmp_path / FILE).write_text(json.dumps({"url": URL, "pid": child, "quiet_hours": ""}))
    assert running(tmp_path) is None
    assert api_url(None, tmp_path, "127.0.0.1", 8000) == "http://127.0.0.1:8000"
    (tmp_path / FILE).write_text("not json")
    assert running(tmp_path) is None


def test_quiet_hours_are_blamed_only_when_the_server_has_them_on(tmp_path):
    night = _window_around_now()
    announce(tmp_path, URL, night)
    assert f"inside the server's quiet hours ({night})" in held_hint(tmp_path, URL)
    announce(tmp_path, URL, "off")
    hint = held_hint(tmp_path, URL)
    assert "quiet" not in hint and "wendu demo outbox" in hint
    announce(tmp_path, URL, "")
    assert "quiet" not in held_hint(tmp_path, URL)
