"""`wendu demo ...`: load the demo company, play its scenarios, read what it was sent.

The commands drive `wendu.demo` (company, scenarios, WeCom sandbox, SMTP sink) through the
running API or the data dir; each imports what it needs, so `wendu --help` stays quick.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from wendu.cli.common import DataDir, UserError, load_settings, session_factory

app = typer.Typer(help="The demo company and its scenarios.", no_args_is_help=True)


@app.command("load")
def demo_load(data_dir: DataDir = None) -> None:
    """Load the demo company (12 people in Shanghai) and create the demo token."""
    from wendu.demo import company

    settings = load_settings(data_dir=data_dir)
    result = company.load(session_factory(data_dir), settings.data_dir)
    c = result.company
    typer.echo(f"demo company: {c.employees} employees ({c.new} new)")
    typer.echo(f"demo token (all scopes) in {result.token_file}")


@app.command("overtime-week")
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
    from wendu.demo.scenarios import overtime_week
    from wendu.running import api_url

    settings = load_settings(data_dir=data_dir)
    base = api_url(url, settings.data_dir, settings.api_host, settings.api_port)
    overtime_week(base, token, settings.data_dir, employee_id, wait, end.date() if end else None)


@app.command("scenario")
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
    from wendu.demo.scenarios import describe, run_scenario
    from wendu.running import api_url

    if name is None:
        typer.echo("Scenarios (`wendu demo scenario NAME`):\n" + describe())
        return
    settings = load_settings(data_dir=data_dir)
    base = api_url(url, settings.data_dir, settings.api_host, settings.api_port)
    run_scenario(base, token, settings.data_dir, name, employee, wait)


@app.command("wecom-outage")
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
    from wendu.demo.channels import wecom_outage

    typer.echo(wecom_outage(load_settings(data_dir=data_dir).data_dir, calls, errcode))


@app.command("outbox")
def demo_outbox(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """What `wendu up --demo` delivered over its local WeCom sandbox and SMTP sink."""
    from wendu.demo.channels import show_outbox

    show_outbox(load_settings(data_dir=data_dir).data_dir, as_json)


@app.command("generate")
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
    from wendu.cli.models import demo_generate as run

    run(employees, weeks, seed, out, events)


@app.command("import")
def demo_import(
    path: Annotated[Path, typer.Argument(help="A JSONL file of events (e.g. events.jsonl).")],
    data_dir: DataDir = None,
) -> None:
    """Store past events as history: profiles are built, no rule fires, nobody is told."""
    from wendu.demo.history import import_history

    factory = session_factory(data_dir)
    try:
        stored, total = import_history(factory, path)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"{path}: {stored:,} events stored ({total - stored:,} known already); "
               "no rule fired")
