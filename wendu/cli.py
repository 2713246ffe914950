"""`wendu`: run the engine, manage tokens and the database, and play with the demo company.

Only typer and the standard library are imported here; each command imports what it needs,
so `wendu --help` answers at once.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from wendu.settings import Settings

# Sub-apps loaded on first use: name -> (module, attribute, one-line help).
LAZY_APPS = {
    "rules": ("wendu.cli_rules", "app", "Check, compile and describe rules (YAML files, folders)."),
    "score": ("wendu.cli_score", "app", "Score records in bulk with a named scorer (JSONL)."),
    "users": ("wendu.cli_users", "app", "Console accounts: create, set a password, disable."),
    "tokens": ("wendu.cli_tokens", "app", "API tokens for producers and integrations."),
    "models": ("wendu.cli_models", "app", "Train, list, evaluate and explain the ML scorers."),
}


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 1, no traceback."""


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_APPS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY_APPS and cmd_name not in self.commands:
            # A stand-in for the help listing; running the command loads the real one.
            return TyperCommand(cmd_name, help=LAZY_APPS[cmd_name][2])
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except SystemExit as exc:
            if "temporalio" in sys.modules and Path(sys.argv[0]).name == "wendu":
                # The Temporal SDK's Rust threads can abort interpreter shutdown now and then
                # (temporalio/sdk-python#300); a finished command skips that shutdown.
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
            raise

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in LAZY_APPS and args[0] not in self.commands:
            module, attr, _ = LAZY_APPS[args[0]]
            sub = getattr(importlib.import_module(module), attr)
            command = typer.main.get_command(sub)
            # Shell completion is installed for `wendu` as a whole, not per sub-app.
            command.params = [p for p in command.params
                              if p.name not in ("install_completion", "show_completion")]
            self.commands[args[0]] = command
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_LazyGroup,
    help="Wendu (温度): HR rules in YAML that run as durable workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The Wendu database.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo company and its scenarios.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where Wendu keeps its state (default: $WENDU_HOME or ~/.wendu).",
        show_default=False,
    ),
]


def load_settings(**overrides: Any) -> Settings:
    """Settings from WENDU_* variables, command-line values winning; errors as one line."""
    from pydantic import ValidationError

    from wendu.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        where = ".".join(str(p) for p in first.get("loc", ()))
        if where:
            message = f"WENDU_{where.upper()}: {message}"
        raise UserError(message) from None


def _session_factory(data_dir: Path | None):
    from wendu.up import ensure_data_dir, migrate

    settings = load_settings(data_dir=data_dir)
    ensure_data_dir(settings.data_dir)
    return migrate(settings)


@app.command()
def up(
    demo: Annotated[
        bool, typer.Option(help="Load the demo company and the rule library.")
    ] = False,
    data_dir: DataDir = None,
    host: Annotated[
        str | None, typer.Option(help="API address (default: WENDU_API_HOST, else 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="API port (default: WENDU_API_PORT, else 8000).", min=1,
                                 max=65535)
    ] = None,
    temporal_address: Annotated[
        str | None,
        typer.Option(help="Use this Temporal server (host:port) instead of the embedded one."),
    ] = None,
    temporal_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the embedded Temporal server (its UI uses port + 1000). "
            "Default: 7233 if free, else any free port.",
            min=1,
            max=64535,
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            help="Rule folder to load (default: WENDU_RULES_DIR; with --demo, the library)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(help="Worker processes (one runs next to the API, the others as child "
                          "processes, as with `wendu worker --processes`).", min=1, max=64),
    ] = 1,
) -> None:
    """Run everything on this machine: Temporal dev server, worker and API."""
    from wendu.up import UpOptions, run_up

    settings = load_settings(data_dir=data_dir, temporal_address=temporal_address,
                             api_host=host, api_port=port)
    run_up(settings, UpOptions(demo, settings.api_host, settings.api_port, temporal_port, rules,
                               workers))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Default: WENDU_API_HOST.")] = None,
    port: Annotated[
        int | None, typer.Option(help="Default: WENDU_API_PORT.", min=1, max=65535)
    ] = None,
) -> None:
    """Serve the HTTP API (production: with WENDU_TEMPORAL_ADDRESS and WENDU_DATABASE_URL)."""
    from wendu.up import run_service

    settings = load_settings()
    run_service(settings, "api", (host or settings.api_host, port or settings.api_port))


WORKER_HELP = (
    "Run a Temporal worker for Wendu's workflows (production; scale out as needed).\n\n"
    "With --processes N, N worker processes run under this one, each polling the same task "
    "queue. SIGINT or SIGTERM stops them all. A worker that ends by itself after running a "
    "while is reported and started again; one that ends within 30 s of its start (it cannot "
    "start: settings, database, Temporal) stops them all, and this command exits 1."
)


@app.command(help=WORKER_HELP)
def worker(
    processes: Annotated[
        int,
        typer.Option(help="Worker processes to run, each polling the same task queue.",
                     min=1, max=64),
    ] = 1,
) -> None:
    from wendu.up import run_service, run_workers

    if processes > 1:
        run_workers(load_settings(), processes)
    else:
        run_service(load_settings(), "worker")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Create or migrate the database schema to the newest version."""
    _session_factory(data_dir)
    typer.echo("database is up to date")


@db_app.command("prune-decisions")
def db_prune_decisions(
    older_than: Annotated[str, typer.Option(help="Keep this much: 365d, 26w, P90D.")] = "365d",
    data_dir: DataDir = None,
) -> None:
    """Delete decision-log rows decided longer ago than --older-than (run it from cron: the
    log holds the facts each rule read about people, kept no longer than needed)."""
    from datetime import UTC, timedelta

    from wendu.decisions import prune_decisions
    from wendu.rules.durations import DurationError, parse_duration
    from wendu.store.db import transaction

    try:
        keep = timedelta(seconds=parse_duration(older_than))
    except DurationError as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from None
    before = datetime.now(UTC) - keep
    with transaction(_session_factory(data_dir)) as session:
        count = prune_decisions(session, before)
    typer.echo(f"deleted {count} decision{'s' if count != 1 else ''} decided before "
               f"{before:%Y-%m-%d %H:%M} UTC")


@demo_app.command("load")
def demo_load(data_dir: DataDir = None) -> None:
    """Load the demo company (12 people in Shanghai) and create the demo token."""
    from wendu import demo

    settings = load_settings(data_dir=data_dir)
    result = demo.load(_session_factory(data_dir), settings.data_dir)
    c = result.company
    typer.echo(f"demo company: {c.employees} employees ({c.new} new)")
    typer.echo(f"demo token (all scopes) in {result.token_file}")


@demo_app.command("overtime-week")
def demo_overtime_week(
    employee_id: Annotated[str, typer.Argument(help="Employee id, e.g. E1004.")],
    url: Annotated[str | None, typer.Option(
        help="The API's base URL (default: that of the `wendu up` running on the data dir).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="Token with events:write (default: the demo token in the data dir)."),
    ] = None,
    data_dir: DataDir = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for messages.", min=0)] = 15.0,
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of the week (default: today)."),
    ] = None,
) -> None:
    """Post late, overtime-heavy days for one employee: six ending today (five ending Sunday
    early in the week, so the day that trips the rule is recent)."""
    from wendu.demo import overtime_week
    from wendu.running import api_url

    settings = load_settings(data_dir=data_dir)
    base = api_url(url, settings.data_dir, settings.api_host, settings.api_port)
    overtime_week(base, token, settings.data_dir, employee_id, wait, end.date() if end else None)


@demo_app.command("scenario")
def demo_scenario(
    name: Annotated[str | None, typer.Argument(help="Scenario name (omit to list them).")] = None,
    employee: Annotated[
        str | None, typer.Option(help="Employee id (default: the scenario's own).")
    ] = None,
    url: Annotated[str | None, typer.Option(
        help="The API's base URL (default: that of the `wendu up` running on the data dir).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="Token with all demo scopes (default: the demo token in the data dir)."),
    ] = None,
    data_dir: DataDir = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for messages.", min=0)] = 20.0,
) -> None:
    """Play one situation of the rule library through the API and show what followed."""
    from wendu.demo_scenarios import describe, run_scenario
    from wendu.running import api_url

    if name is None:
        typer.echo("Scenarios (`wendu demo scenario NAME`):\n" + describe())
        return
    settings = load_settings(data_dir=data_dir)
    base = api_url(url, settings.data_dir, settings.api_host, settings.api_port)
    run_scenario(base, token, settings.data_dir, name, employee, wait)


@demo_app.command("wecom-outage")
def demo_wecom_outage(
    calls: Annotated[int, typer.Option(help="How many sends fail (0 ends the outage).", min=0)]
    = 100,
    errcode: Annotated[
        int, typer.Option(help="WeCom error code to answer: -1 system busy (retried), "
                               "45009 rate limit (retried), 60020 ip not allowed (not).")
    ] = -1,
    data_dir: DataDir = None,
) -> None:
    """Make the demo's WeCom sandbox fail, to see retries and recorded failures."""
    from wendu.demo_channels import wecom_outage

    typer.echo(wecom_outage(load_settings(data_dir=data_dir).data_dir, calls, errcode))


@demo_app.command("outbox")
def demo_outbox(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """What `wendu up --demo` delivered over its local WeCom sandbox and SMTP sink."""
    from wendu.demo import show_outbox

    show_outbox(load_settings(data_dir=data_dir).data_dir, as_json)


@demo_app.command("generate")
def demo_generate(
    out: Annotated[Path, typer.Option(help="Folder for the CSV files.")] = Path("demo-company"),
    employees: Annotated[int, typer.Option(help="Number of employees.", min=1)] = 1000,
    weeks: Annotated[int, typer.Option(help="Weeks of history (at least 8).", min=8)] = 26,
    seed: Annotated[int, typer.Option(help="Same seed, same company.")] = 7,
    events: Annotated[
        bool, typer.Option(help="Also write its history as events (events.jsonl).")
    ] = True,
) -> None:
    """Write a synthetic company with a documented causal structure (scorers/synth.py)."""
    from wendu.cli_models import demo_generate as run

    run(employees, weeks, seed, out, events)


@demo_app.command("import")
def demo_import(
    path: Annotated[Path, typer.Argument(help="A JSONL file of events (e.g. events.jsonl).")],
    data_dir: DataDir = None,
) -> None:
    """Store past events as history: profiles are built, no rule fires, nobody is told."""
    from wendu.demo_history import import_history

    factory = _session_factory(data_dir)
    try:
        stored, total = import_history(factory, path)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"{path}: {stored:,} events stored ({total - stored:,} known already); "
               "no rule fired")


@app.command()
def version() -> None:
    """Print Wendu's version."""
    from wendu import __version__

    typer.echo(f"wendu {__version__}")
