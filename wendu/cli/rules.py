"""`wendu rules ...`: check, compile and describe rule files from the command line."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from wendu.rule_schema import groups_schema, rule_schema
from wendu.rules.plan import ScheduleTrigger
from wendu.rules.ruleset import RuleSetResult, load_ruleset
from wendu.rules.templates_catalog import TemplateCatalog

app = typer.Typer(
    help="Check, compile and describe Wendu rules (YAML files or folders of them).",
    no_args_is_help=True,
)

TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        envvar="WENDU_TEMPLATES_DIR",
        help="Folder of message templates (<name>/zh-CN.j2, <name>/en.j2); default: built-in.",
    ),
]


def _no_traceback(command: Callable[..., Any]) -> Callable[..., Any]:
    """A user mistake is a message and exit 1; even our own bugs end in one clear line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001
            typer.echo(f"error: unexpected failure ({type(exc).__name__}: {exc}); "
                       "please report it with the rule file attached", err=True)
            raise typer.Exit(2) from None

    return wrapper


def _load(paths: list[Path], templates: Path | None) -> RuleSetResult:
    if templates is not None and not templates.is_dir():
        typer.echo(f"{templates}: error: the templates folder does not exist", err=True)
        raise typer.Exit(1)
    catalog = TemplateCatalog(templates) if templates is not None else None
    return load_ruleset(paths, templates=catalog)


@app.command()
@_no_traceback
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Rule files or folders.")],
    templates: TemplatesOption = None,
) -> None:
    """Check rules; print one `file:line:col: error: message` line per problem."""
    result = _load(paths, templates)
    for problem in result.problems:
        typer.echo(str(problem))
    if result.errors:
        count = len(result.errors)
        typer.echo(f"{count} error{'s' if count != 1 else ''}", err=True)
        raise typer.Exit(1)
    if not result.plans:
        typer.echo(f"error: no rules found in {', '.join(map(str, paths))}", err=True)
        raise typer.Exit(1)
    schedule = sum(isinstance(p.trigger, ScheduleTrigger) for p in result.plans)
    total = len(result.plans)
    typer.echo(f"{total} rule{'s' if total != 1 else ''} OK "
               f"({total - schedule} event, {schedule} schedule)")


@app.command("compile")
@_no_traceback
def compile_(
    path: Annotated[Path, typer.Argument(help="A rule file, or a folder (prints a JSON list).")],
    templates: TemplatesOption = None,
) -> None:
    """Print the compiled plan(s) as JSON, the input of the rule workflow."""
    result = _load([path], templates)
    for problem in result.problems:
        typer.echo(str(problem), err=True)
    if result.errors:
        raise typer.Exit(1)
    plans = [plan.model_dump(mode="json", by_alias=True) for plan in result.plans]
    if not plans:
        typer.echo(f"error: no rules found in {path}", err=True)
        raise typer.Exit(1)
    data = plans if path.is_dir() else plans[0]
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
@_no_traceback
def schema(
    templates: TemplatesOption = None,
    groups: Annotated[bool, typer.Option(
        "--groups", help="The schema of _groups.yaml instead of a rule file's.")] = False,
) -> None:
    """Print the JSON Schema of a rule file (for editors such as VS Code's YAML extension),
    with the catalog's event types, channels, templates and scorers to complete from."""
    typer.echo(groups_schema_text() if groups else schema_text(templates))


def schema_text(templates: Path | None = None) -> str:
    catalog = TemplateCatalog(templates) if templates else None
    return json.dumps(rule_schema(catalog), indent=2, ensure_ascii=False) + "\n"


def groups_schema_text() -> str:
    return json.dumps(groups_schema(), indent=2, ensure_ascii=False) + "\n"


def _register_backtest() -> None:
    from wendu.cli.backtest import backtest

    app.command("backtest")(_no_traceback(backtest))


_register_backtest()


def _register_ruletest() -> None:
    from wendu.cli.ruletest import test, test_schema

    app.command("test")(_no_traceback(test))
    app.command("test-schema")(_no_traceback(test_schema))


_register_ruletest()


def _register_versions() -> None:
    # Not wrapped in `_no_traceback`: their mistakes are `UserError`s, one line from `wendu`.
    from wendu.cli.versions import diff, history, rollback

    app.command("history")(history)
    app.command("diff")(diff)
    app.command("rollback")(rollback)


_register_versions()
