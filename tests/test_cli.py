"""The `wendu` command line as a user meets it: help everywhere, tokens, the demo company,
and one clean line (no traceback) for every mistake a user can make."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from wendu.cli.main import app
from wendu.demo.company import COMPANY, SCOPES
from wendu.store.db import make_engine, make_session_factory
from wendu.store.models import Employee, Event, Profile
from wendu.tokens import verify_token

EXPECTED = {
    ("up",), ("api",), ("worker",), ("version",), ("rules",), ("db", "upgrade"),
    ("tokens", "create"), ("tokens", "list"), ("tokens", "revoke"),
    ("demo", "load"), ("demo", "overtime-week"), ("demo", "scenario"), ("demo", "wecom-outage"),
}


def wendu_bin() -> str:
    beside = Path(sys.executable).parent / "wendu"
    return str(beside) if beside.exists() else (shutil.which("wendu") or "wendu")


def run(*args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 60):
    """`wendu ARGS` as a separate process, as a user runs it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WENDU_")}
    full_env.update({"WENDU_HOME": str(home), **(env or {})})
    return subprocess.run([wendu_bin(), *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command_paths() -> dict[tuple[str, ...], object]:
    """Every command and sub-command, the lazily mounted `rules` group included."""
    root = typer.main.get_command(app)
    found: dict[tuple[str, ...], object] = {}

    def walk(cmd, path: tuple[str, ...], ctx) -> None:
        found[path] = cmd
        if not hasattr(cmd, "list_commands"):
            return
        for name in cmd.list_commands(ctx):
            _, sub, _ = cmd.resolve_command(ctx, [name])
            walk(sub, (*path, name), sub.make_context(name, ["--help"], parent=ctx,
                                                     resilient_parsing=True))

    walk(root, (), root.make_context("wendu", [], resilient_parsing=True))
    return found


def test_every_command_has_help():
    runner = CliRunner()
    paths = command_paths()
    assert set(paths) >= EXPECTED, f"missing commands: {EXPECTED - set(paths)}"
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output and "--help" in result.output, path


def test_top_level_help_loads_nothing_heavy(tmp_path: Path):
    code = (
        "import sys\n"
        "from wendu.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('temporalio', 'sqlalchemy', 'uvicorn', 'fastapi', 'sklearn', 'wendu.cli.rules',"
        " 'wendu.rules', 'wendu.api')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "WENDU_HOME": str(tmp_path)})
    assert "rules" in out.stdout and "demo" in out.stdout  # the help was printed
    assert "LOADED []" in out.stdout, out.stdout


def test_version(tmp_path: Path):
    result = run("version", home=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("wendu ")


def _session(home: Path):
    engine = make_engine(f"sqlite:///{home / 'wendu.db'}")
    return engine, make_session_factory(engine)


def test_token_create_list_revoke(tmp_path: Path):
    created = run("tokens", "create", "hris", "--scope", "events:write", "--scope",
                  "tasks:act", home=tmp_path)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    engine, factory = _session(tmp_path)
    with factory.begin() as session:
        found = verify_token(session, token)
        assert found is not None and sorted(found.scopes) == ["events:write", "tasks:act"]

    listed = run("tokens", "list", home=tmp_path)
    assert "hris" in listed.stdout and "events:write" in listed.stdout
    assert token not in listed.stdout  # the value is shown once, at creation

    again = run("tokens", "create", "hris", "--scope", "events:write", home=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr

    assert run("tokens", "revoke", "hris", home=tmp_path).returncode == 0
    with factory.begin() as session:
        assert verify_token(session, token) is None
    assert "revoked" in run("tokens", "list", home=tmp_path).stdout
    engine.dispose()


def test_demo_load_is_idempotent(tmp_path: Path):
    first = run("demo", "load", home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "12 employees (12 new)" in first.stdout
    token_file = tmp_path / "demo-token"
    token = token_file.read_text().strip()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    second = run("demo", "load", home=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "12 employees (0 new)" in second.stdout
    assert token_file.read_text().strip() == token  # reused, not replaced

    engine, factory = _session(tmp_path)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Employee)) == len(COMPANY) == 12
        assert session.scalar(select(func.count()).select_from(Event)) == 12
        assert session.scalar(select(func.count()).select_from(Profile)) == 12
        zhang = session.get(Employee, "E1004")
        assert (zhang.name, zhang.manager_id, zhang.timezone) == ("张伟", "E1002", "Asia/Shanghai")
        locales = {e.locale for e in session.scalars(select(Employee))}
        assert locales == {"zh-CN", "en"}
        live = verify_token(session, token)
        assert live is not None and sorted(live.scopes) == sorted(SCOPES)
    engine.dispose()

    token_file.unlink()  # lost: a new token replaces the old one, which stops working
    assert run("demo", "load", home=tmp_path).returncode == 0
    replacement = token_file.read_text().strip()
    engine, factory = _session(tmp_path)
    with factory.begin() as session:
        assert replacement != token
        assert verify_token(session, token) is None
        assert verify_token(session, replacement) is not None
    engine.dispose()


def assert_clean_error(result, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_usage_mistakes_exit_2(tmp_path: Path):
    assert_clean_error(run("up", "--port", "eighty", home=tmp_path), 2, "--port")
    assert_clean_error(run("up", "--port", "0", home=tmp_path), 2, "--port")
    assert_clean_error(run("tokens", "create", "x", "--scope", "nope", home=tmp_path), 2,
                       "unknown scope 'nope'")
    assert_clean_error(run("tokens", "create", "x", home=tmp_path), 2, "--scope")
    assert_clean_error(run("nonsense", home=tmp_path), 2, "nonsense")


def test_overtime_week_mistakes(tmp_path: Path):
    nobody = f"http://127.0.0.1:{free_port()}"
    assert_clean_error(run("demo", "overtime-week", "E1004", "--url", "not a url", "--token", "t",
                           home=tmp_path), 1, "not an http(s) URL")
    assert_clean_error(run("demo", "overtime-week", "E1004", "--url", nobody, home=tmp_path), 1,
                       "no token", "wendu demo load")
    assert_clean_error(run("demo", "overtime-week", "E1004", "--url", nobody, "--token", "t",
                           home=tmp_path), 1, f"cannot reach the Wendu API at {nobody}")


def test_demo_scenarios_are_listed_and_mistakes_are_one_line(tmp_path: Path):
    listed = run("demo", "scenario", home=tmp_path)
    assert listed.returncode == 0
    for name in ("overtime", "satisfaction-drop", "housing-fund", "certificate", "resignation",
                 "review", "new-hire", "attrition-scan"):
        assert f"  {name} " in listed.stdout, name
    assert_clean_error(run("demo", "scenario", "overtim", home=tmp_path), 1,
                       "no scenario 'overtim'", "overtime")
    nobody = f"http://127.0.0.1:{free_port()}"
    assert_clean_error(run("demo", "scenario", "review", "--url", nobody, "--token", "t",
                           home=tmp_path), 1, f"cannot reach the Wendu API at {nobody}")
    assert_clean_error(run("demo", "wecom-outage", home=tmp_path), 1,
                       "no WeCom sandbox is running", "wendu up --demo")


def test_data_dir_not_writable(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run("demo", "load", "--data-dir", str(blocker / "wendu"), home=tmp_path)
    assert_clean_error(result, 1, f"data dir {blocker / 'wendu'} is not writable")


def test_up_refuses_a_port_in_use(tmp_path: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("up", "--data-dir", str(tmp_path / "d"), "--port", str(port), home=tmp_path)
    assert_clean_error(result, 1, f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "d" / "temporal.db").exists()  # nothing was started


def test_unreachable_temporal(tmp_path: Path):
    address = f"127.0.0.1:{free_port()}"
    env = {"WENDU_TEMPORAL_ADDRESS": address}
    assert_clean_error(run("worker", home=tmp_path, env=env), 1,
                       f"cannot reach Temporal at {address}")
    assert_clean_error(run("api", "--port", str(free_port()), home=tmp_path, env=env), 1,
                       f"cannot reach Temporal at {address}")
    assert_clean_error(run("up", "--temporal-address", address, "--port", str(free_port()),
                           home=tmp_path), 1, f"cannot reach Temporal at {address}")


def test_production_commands_need_a_temporal_address(tmp_path: Path):
    assert_clean_error(run("api", home=tmp_path), 1, "WENDU_TEMPORAL_ADDRESS is not set")
    assert_clean_error(run("worker", home=tmp_path), 1, "WENDU_TEMPORAL_ADDRESS is not set")


def test_production_refuses_the_default_secret(tmp_path: Path):
    prod = {"WENDU_ENVIRONMENT": "production"}
    assert_clean_error(run("db", "upgrade", home=tmp_path, env=prod), 1, "WENDU_SECRET_KEY")
    assert_clean_error(run("api", home=tmp_path, env=prod), 1, "WENDU_SECRET_KEY")
    ok = run("db", "upgrade", home=tmp_path, env={**prod, "WENDU_SECRET_KEY": "s3cret-of-ours"})
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "wendu.db").exists()


@pytest.mark.parametrize("value", ["staging", "prod"])
def test_unknown_environment_is_one_line(tmp_path: Path, value: str):
    result = run("db", "upgrade", home=tmp_path, env={"WENDU_ENVIRONMENT": value})
    assert_clean_error(result, 1, "WENDU_ENVIRONMENT")
