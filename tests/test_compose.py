"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine is needed):
the commands are real `wendu` commands, the variables are real settings, the topology holds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import typer
import yaml

from wendu.cli.main import app
from wendu.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict = COMPOSE["services"]


def command(service: dict) -> list[str]:
    cmd = service.get("command", [])
    return cmd.split() if isinstance(cmd, str) else list(cmd)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def wendu_services() -> dict[str, dict]:
    return {n: s for n, s in SERVICES.items() if command(s)[:1] == ["wendu"]}


def published(service: dict) -> list[str]:
    return [str(p) for p in service.get("ports", [])]


def test_topology():
    assert {"postgresql", "temporal", "temporal-ui", "api", "worker"} <= set(SERVICES)
    assert command(SERVICES["api"]) == ["wendu", "api", "--host", "0.0.0.0", "--port", "8000"]
    assert command(SERVICES["worker"]) == ["wendu", "worker"]
    assert SERVICES["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert SERVICES["temporal-ui"]["image"].startswith("temporalio/ui:")


@pytest.mark.parametrize("name", sorted(wendu_services()))
def test_every_command_is_a_real_wendu_command(name: str):
    """Resolve the command in the CLI and parse its options, as `wendu` itself would."""
    args = command(SERVICES[name])[1:]
    cmd = typer.main.get_command(app)
    ctx = cmd.make_context("wendu", [], resilient_parsing=True)
    path = []
    while hasattr(cmd, "resolve_command") and args and not args[0].startswith("-"):
        word, cmd, args = cmd.resolve_command(ctx, args)
        path.append(word)
        ctx = cmd.make_context(word, list(args), parent=ctx)  # raises on an unknown option
    assert not hasattr(cmd, "resolve_command"), f"{name}: `wendu {' '.join(path)}` is a group"
    assert not ctx.args, f"{name}: unexpected arguments {ctx.args}"


@pytest.mark.parametrize("name", sorted(wendu_services()))
def test_every_wendu_variable_is_a_setting(name: str):
    fields = {f"WENDU_{field.upper()}" for field in Settings.model_fields}
    env = environment(SERVICES[name])
    for var in env:
        if var.startswith("WENDU_"):
            assert var in fields, f"{name}: {var} is not a Settings field"
    assert env["WENDU_ENVIRONMENT"] == "production"
    # The secret comes from the operator's environment, never from this file.
    assert re.fullmatch(r"\$\{WENDU_SECRET_KEY(:\?[^}]*)?\}", env["WENDU_SECRET_KEY"])
    db = urlsplit(env["WENDU_DATABASE_URL"])
    assert db.scheme.startswith("postgresql") and db.hostname in SERVICES
    assert SERVICES[db.hostname]["image"].startswith("postgres:")
    host, _, port = env["WENDU_TEMPORAL_ADDRESS"].partition(":")
    assert host == "temporal" and port == "7233"


def test_temporal_has_a_database_of_its_own():
    env = environment(SERVICES["temporal"])
    temporal_db = env["POSTGRES_SEEDS"]
    wendu_db = urlsplit(environment(SERVICES["api"])["WENDU_DATABASE_URL"]).hostname
    assert temporal_db in SERVICES and temporal_db != wendu_db
    assert SERVICES[temporal_db]["image"].startswith("postgres:")
    assert env["DB"] == "postgres12"


def test_ports():
    api_port = command(SERVICES["api"])[command(SERVICES["api"]).index("--port") + 1]
    assert any(p.endswith(f":{api_port}") for p in published(SERVICES["api"]))
    assert published(SERVICES["worker"]) == []
    for name, service in SERVICES.items():
        if service.get("image", "").startswith("postgres:"):
            assert published(service) == [], f"{name}: the database is not for the outside"
    # The Temporal UI has no login: it is published on the host's loopback only.
    assert all(p.startswith("127.0.0.1:") for p in published(SERVICES["temporal-ui"]))


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        if image and not image.startswith("wendu:"):
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_start_order_waits_for_health():
    for name, service in SERVICES.items():
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            condition = cond["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dep], f"{dep} needs a healthcheck"
    for name in ("api", "worker"):
        deps = SERVICES[name]["depends_on"]
        assert deps["temporal"]["condition"] == "service_healthy"
        db_ready = deps.get("postgresql", {}).get("condition") == "service_healthy" or any(
            d["condition"] == "service_completed_successfully"
            and command(SERVICES[n])[:3] == ["wendu", "db", "upgrade"]
            for n, d in deps.items()
        )
        assert db_ready, f"{name} must start after the database is migrated"
    assert "/healthz" in str(SERVICES["api"]["healthcheck"]["test"])


def test_dockerfile_copies_every_package_folder():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    folders = {d.split("/")[0] for d in pyproject["tool"]["setuptools"]["package-dir"].values()}
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY\s+(\S+)\s", dockerfile, flags=re.M))
    assert folders <= copied, f"not copied into the image: {sorted(folders - copied)}"
    assert "README.md" in dockerfile  # pyproject's readme: the build needs it
    for name in wendu_services():
        build = SERVICES[name].get("build")
        assert build in (".", {"context": "."}), f"{name} is not built from this Dockerfile"


def test_the_worker_scales_out():
    """`docker compose up --scale worker=4` needs nothing a second replica would clash on."""
    worker = SERVICES["worker"]
    assert "container_name" not in worker and published(worker) == []
    assert not (worker.get("deploy") or {}).get("replicas")  # --scale decides, not the file
    assert worker.get("restart") == "unless-stopped"
    assert "--scale worker=" in (ROOT / "docker-compose.yml").read_text()
    # The same image can run several worker processes per container instead.
    group = typer.main.get_command(app)
    parent = group.make_context("wendu", [], resilient_parsing=True)
    _, worker_cmd, args = group.resolve_command(parent, ["worker", "--processes", "4"])
    assert worker_cmd.make_context("worker", args, parent=parent).params["processes"] == 4
