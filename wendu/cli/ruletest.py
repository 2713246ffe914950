"""`wendu rules test [PATH]` and `wendu rules test-schema`: rule tests from the command line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_PATH = Path("rules/library")


def test(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Rule folders (their tests/*.yaml) or test files; default: rules/library.")] = None,
    junit_xml: Annotated[Path | None, typer.Option(
        "--junit-xml", help="Also write the results as JUnit XML to this file.")] = None,
    coverage: Annotated[bool, typer.Option(
        "--coverage/--no-coverage", help="Print the rules, steps and branches no test reached."
    )] = True,
) -> None:
    """Run rule tests on the real engine; print each failure as `file:line:col` with
    expected vs got, then `N passed, M failed`; exit 1 on any failure."""
    from wendu.ruletest.report import coverage_lines, failure_lines, summary, write_junit
    from wendu.ruletest.runner import Runner

    # Activity retries and worker chatter are not the author's business here.
    for name in ("temporalio", "wendu"):
        logging.getLogger(name).setLevel(logging.ERROR)
    result = asyncio.run(Runner().run(paths or [DEFAULT_PATH]))
    for line in failure_lines(result):
        typer.echo(line)
    if coverage:
        for line in coverage_lines(result):
            typer.echo(line)
    if junit_xml is not None:
        write_junit(result, junit_xml)
    if not result.cases and not result.problems:
        typer.echo(f"error: no rule tests found in {', '.join(map(str, paths or [DEFAULT_PATH]))}"
                   " (tests/*.yaml beside the rules)", err=True)
        raise typer.Exit(1)
    typer.echo(summary(result))
    if not result.ok:
        raise typer.Exit(1)


def test_schema() -> None:
    """Print the JSON Schema of a rule-test file (for editors' YAML support)."""
    from wendu.ruletest.spec import schema_text

    typer.echo(schema_text(), nl=False)
