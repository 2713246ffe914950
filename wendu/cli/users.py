"""`wendu users ...`: console accounts from the command line."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from wendu.store.audit import cli_actor
from wendu.store.models_accounts import USER_ROLES

app = typer.Typer(help="Console accounts: create, set a password, disable.",
                  no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", show_default=False,
                                              help="Default: $WENDU_HOME or ~/.wendu.")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input "
    "(for scripts), instead of asking twice.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise _fail("password: the two entries differ")
    return first


def _run(data_dir: Path | None, action) -> None:  # type: ignore[no-untyped-def]
    from wendu.api.web_accounts import AccountError
    from wendu.cli.common import session_factory

    factory = session_factory(data_dir)
    try:
        with factory.begin() as session:
            action(session)
    except AccountError as exc:
        raise _fail(str(exc)) from None


@app.command()
def create(
    username: str,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(USER_ROLES)}.")],
    employee: Annotated[str | None, typer.Option(
        help="The employee id the account belongs to (required for manager and employee).")]
    = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Create an account."""
    from wendu.api.web_accounts import create_user

    password = _password(password_stdin)
    _run(data_dir, lambda s: create_user(s, username, role, password, employee,
                                         actor=cli_actor()))
    typer.echo(f"created {username} ({role}{', ' + employee if employee else ''})")


@app.command("set-password")
def set_password(username: str, password_stdin: PasswordStdin = False,
                 data_dir: DataDir = None) -> None:
    """Set a new password (signs the user out everywhere)."""
    from wendu.api.web_accounts import set_password as set_pw

    password = _password(password_stdin)
    _run(data_dir, lambda s: set_pw(s, username, password, actor=cli_actor()))
    typer.echo(f"password of {username} changed")


@app.command()
def disable(username: str, data_dir: DataDir = None) -> None:
    """Disable an account (it can no longer sign in; its sessions end now)."""
    from wendu.api.web_accounts import disable_user

    _run(data_dir, lambda s: disable_user(s, username, actor=cli_actor()))
    typer.echo(f"{username} disabled")
