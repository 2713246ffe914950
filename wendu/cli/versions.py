"""`wendu rules history|diff|rollback`: a rule's versions, from a running Wendu's API.

These commands go through the API rather than the database, like a release script would:
the token (`--token`, `WENDU_TOKEN`, else the demo token of the data dir) needs `rules:admin`,
a rollback is audited under the token's name, and the API checks that the old version still
compiles before it goes live. The next event fires the version rolled back to; workflows
already running finish on the version they started with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

TOKEN_HINT = ("set WENDU_TOKEN to one with rules:admin (`wendu tokens create release --scope "
              "rules:admin`), or use the demo token in {data_dir} (`wendu demo load`)")

RuleId = Annotated[str, typer.Argument(help="The rule's id, e.g. overtime-care.")]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="WENDU_API_URL",
                 help="The API's base URL (default: http://WENDU_API_HOST:WENDU_API_PORT)."),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="WENDU_TOKEN",
                 help="A token with rules:admin (default: the demo token in the data dir)."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where Wendu keeps its state (default: $WENDU_HOME or "
                                    "~/.wendu); only read for the demo token.",
                 show_default=False),
]


def _client(url: str | None, token: str | None, data_dir: Path | None) -> Any:
    from wendu.cli.api import api_client
    from wendu.cli.common import load_settings

    settings = load_settings(data_dir=data_dir)
    base = url or f"http://{settings.api_host}:{settings.api_port}"
    return api_client(base, token, settings.data_dir, hint=TOKEN_HINT)


def _path(rule_id: str, what: str) -> str:
    return f"/api/v1/rules/{quote(rule_id, safe='')}/{what}"


def history(
    rule_id: RuleId,
    url: UrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The versions as JSON.")] = False,
) -> None:
    """Every stored version of a rule, oldest first: who stored it, when, how often it fired."""
    with _client(url, token, data_dir) as api:
        versions = api.call("GET", _path(rule_id, "versions"))
    if as_json:
        typer.echo(json.dumps(versions, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'':2}{'version':<8} {'digest':<8}  {'stored at (UTC)':<16}  "
               f"{'by':<20} firings")
    for v in versions:
        at = v["created_at"][:16].replace("T", " ")
        typer.echo(f"{'* ' if v['current'] else '  '}{v['version']:<8} {v['digest'][:8]:<8}  "
                   f"{at:<16}  {v['created_by'] or '-':<20} {v['firings']}")
    typer.echo("(* current)")


def diff(
    rule_id: RuleId,
    old: Annotated[str, typer.Argument(help="A version number, or a digest prefix (4+).")],
    new: Annotated[str, typer.Argument(help="A version number, or a digest prefix (4+).")],
    url: UrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """What changed between two versions of a rule, as a unified diff."""
    with _client(url, token, data_dir) as api:
        body = api.call("GET", _path(rule_id, "diff"), params={"old": old, "new": new})
    typer.echo(body["diff"].rstrip("\n") if body["diff"] else
               f"{rule_id}: versions {old} and {new} have the same text")


def rollback(
    rule_id: RuleId,
    version: Annotated[str, typer.Argument(help="The version to go back to: its number, or "
                                                "a digest prefix (4+).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log.")] = "",
    url: UrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Make an old version of a rule current again (checked, stored, audited). The next event
    fires it; workflows already running finish on their own version."""
    from wendu.cli.common import UserError

    if len(reason) > 500:
        raise UserError("--reason: at most 500 characters")
    with _client(url, token, data_dir) as api:
        body = api.call("POST", _path(rule_id, "rollback"),
                        json={"version": version, "reason": reason})
    typer.echo(f"{body['rule_id']} is now version {body['version']} ({body['digest'][:8]}); "
               "the next event fires it, running workflows finish on their own version")
