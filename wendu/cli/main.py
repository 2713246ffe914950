"""`wendu`: run the engine, manage tokens and the database, and play with the demo company.

The app and its top-level commands (up, api, worker, db, version); the other groups are
their own modules (`wendu demo` in `demo`, the rest loaded on first use, see LAZY_APPS).
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
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from wendu.cli.common import DataDir, UserError, load_settings, session_factory
from wendu.cli.demo import app as demo_app

# Sub-apps loaded on first use: name -> (module, attribute, one-line help).
LAZY_APPS = {
    "rules": ("wendu.cli.rules", "app", "Check, compile and describe rules (YAML files, folders)."),
    "score": ("wendu.cli.score", "app", "Score records in bulk with a named scorer (JSONL)."),
    "users": ("wendu.cli.users", "app", "Console accounts: create, set a password, disable."),
    "tokens": ("wendu.cli.tokens", "app", "API tokens for producers and integrations."),
    "models": ("wendu.cli.models", "app", "Train, list, evaluate and explain the ML scorers."),
}


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
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")

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
    from wendu.cli.up import UpOptions, run_up

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
    from wendu.cli.up import run_service

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
    from wendu.cli.up import run_service, run_workers

    if processes > 1:
        run_workers(load_settings(), processes)
    else:
        run_service(load_settings(), "worker")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Create or migrate the database schema to the newest version."""
    session_factory(data_dir)
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
    with transaction(session_factory(data_dir)) as session:
        count = prune_decisions(session, before)
    typer.echo(f"deleted {count} decision{'s' if count != 1 else ''} decided before "
               f"{before:%Y-%m-%d %H:%M} UTC")


@app.command()
def version() -> None:
    """Print Wendu's version."""
    from wendu import __version__

    typer.echo(f"wendu {__version__}")
