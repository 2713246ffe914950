"""`wendu users ...` as a user runs it, and the demo accounts `wendu demo load` creates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wendu.api.web_accounts import authenticate
from wendu.store.db import make_engine, make_session_factory


def test_users_command_line_and_the_demo_accounts(tmp_path):
    wendu = str(Path(sys.executable).parent / "wendu")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENDU_")}
    env["WENDU_HOME"] = str(tmp_path)

    def run(*args: str, stdin: str = ""):
        return subprocess.run([wendu, *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=120)

    assert run("demo", "load").returncode == 0
    ok = run("users", "create", "zhangwei", "--role", "employee", "--employee", "E1004",
             "--password-stdin", stdin="first-password\n")
    assert ok.returncode == 0, ok.stderr
    bad = run("users", "create", "x1", "--role", "boss", "--password-stdin", stdin="pw-12345678\n")
    assert bad.returncode == 1 and "role: 'boss' is not one of" in bad.stderr
    short = run("users", "set-password", "zhangwei", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "password: at least 8 characters" in short.stderr
    assert run("users", "set-password", "zhangwei", "--password-stdin",
               stdin="second-password\n").returncode == 0
    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'wendu.db'}"))
    with factory.begin() as s:
        assert authenticate(s, "zhangwei", "first-password") is None
        assert authenticate(s, "zhangwei", "second-password").employee_id == "E1004"
        # The README's demo accounts.
        assert authenticate(s, "sarah", "wendu-demo-hr").role == "hr_admin"
        assert authenticate(s, "lina", "wendu-demo-manager").employee_id == "E1002"
    assert run("users", "disable", "zhangwei").returncode == 0
    with factory.begin() as s:
        assert authenticate(s, "zhangwei", "second-password") is None
