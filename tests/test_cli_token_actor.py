"""`wendu tokens create --actor` and the audit trail of token and account changes, as an
operator meets them at the command line."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from wendu.store.db import make_engine, make_session_factory
from wendu.store.models_accounts import AuditLog
from wendu.tokens import verify_token


def run(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENDU_")}
    env["WENDU_HOME"] = str(home)
    return subprocess.run([str(Path(sys.executable).parent / "wendu"), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_a_token_bound_to_an_actor_and_every_change_audited(tmp_path: Path):
    assert run("demo", "load", home=tmp_path).returncode == 0
    unknown = run("tokens", "create", "bot", "--scope", "tasks:act", "--actor", "E404",
                  home=tmp_path)
    assert unknown.returncode == 1 and "no employee 'E404'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    made = run("tokens", "create", "lina-bot", "--scope", "tasks:act", "--scope",
               "notifications:read", "--actor", "E1002", home=tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    listed = run("tokens", "list", home=tmp_path).stdout
    assert "lina-bot\tnotifications:read,tasks:act\tas E1002\t" in listed
    assert run("tokens", "revoke", "lina-bot", home=tmp_path).returncode == 0
    assert run("users", "create", "zw", "--role", "employee", "--employee", "E1004",
               "--password-stdin", home=tmp_path, stdin="first-password\n").returncode == 0
    assert run("users", "set-password", "zw", "--password-stdin", home=tmp_path,
               stdin="second-password\n").returncode == 0
    assert run("users", "disable", "zw", home=tmp_path).returncode == 0

    engine = make_engine(f"sqlite:///{tmp_path / 'wendu.db'}")
    with make_session_factory(engine)() as s:
        assert verify_token(s, token) is None
        rows = s.scalars(select(AuditLog).where(AuditLog.action.in_(
            ["token.create", "token.revoke", "user.create", "user.set_password",
             "user.disable"])).order_by(AuditLog.id)).all()
        ours = [(r.actor, r.action) for r in rows if r.actor.startswith("cli")]
        me = f"cli:{getpass.getuser()}"
        assert ours == [(me, "token.create"), (me, "token.revoke"), (me, "user.create"),
                        (me, "user.set_password"), (me, "user.disable")]
        text = " ".join(str((r.before, r.after, r.note)) for r in rows)
        assert token not in text and "password" not in text.replace("set_password", "")
        assert {"name": "lina-bot", "scopes": ["notifications:read", "tasks:act"],
                "actor_id": "E1002"} in [r.after for r in rows]
    engine.dispose()
