"""`wendu tokens ...`: API tokens for producers and integrations, from the command line.

A token's value is printed once, at creation; `list` shows names, scopes, the actor a token is
bound to and its last use, never a value. Creating and revoking are audited as the operating
system user who ran the command (`wendu.tokens`, `wendu.store.audit`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wendu.cli.common import DataDir

app = typer.Typer(help="API tokens for producers and integrations.", no_args_is_help=True)


def _factory(data_dir: Path | None) -> Any:
    from wendu.cli.common import session_factory  # opens the database: only when run

    return session_factory(data_dir)


def _user_error(message: str) -> Exception:
    from wendu.cli.common import UserError

    return UserError(message)


@app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="A name to recognise the token by, e.g. 'hris'.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="events:write, tasks:act, notifications:read or rules:admin (repeatable).",
        ),
    ],
    actor: Annotated[str | None, typer.Option(
        "--actor", help="Bind the token to this employee id: it acts on tasks only as them and "
        "reads only their inbox.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API token; its value is printed once and cannot be shown again."""
    from wendu import tokens
    from wendu.store.audit import cli_actor
    from wendu.store.db import transaction

    unknown = [s for s in scope if s not in tokens.SCOPES]
    if unknown:
        known = ", ".join(tokens.SCOPES)
        raise typer.BadParameter(f"unknown scope {unknown[0]!r} (choose from {known})",
                                 param_hint="--scope")
    try:
        with transaction(_factory(data_dir)) as session:
            token = tokens.create_token(session, name, scope, actor_id=actor, actor=cli_actor())
    except tokens.TokenError as exc:
        raise _user_error(str(exc)) from None
    typer.echo(token)


@app.command("list")
def tokens_list(data_dir: DataDir = None) -> None:
    """List tokens (names, scopes, the actor each is bound to, last use); values are never
    shown."""
    from wendu import tokens
    from wendu.store.db import transaction

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "-"

    with transaction(_factory(data_dir)) as session:
        lines = [
            f"{t.name}\t{','.join(t.scopes)}\t{f'as {t.actor_id}' if t.actor_id else 'any actor'}\t"
            f"{f'revoked {when(t.revoked_at)}' if t.revoked_at else 'active'}\t"
            f"created {when(t.created_at)}\tlast used {when(t.last_used_at)}"
            for t in tokens.list_tokens(session)
        ]
    typer.echo("\n".join(lines) if lines else "no tokens")


@app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")], data_dir: DataDir = None
) -> None:
    """Revoke a token: requests using it are refused from now on."""
    from wendu import tokens
    from wendu.store.audit import cli_actor
    from wendu.store.db import transaction

    with transaction(_factory(data_dir)) as session:
        found = tokens.revoke_token(session, name, actor=cli_actor())
    if found is False:
        raise _user_error(f"no token named {name!r}")
    typer.echo(f"revoked {name}")
