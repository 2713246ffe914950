"""What every `wendu` command shares: the user-error type, the data-dir option, settings.

It imports none of the commands (they import it), so any command module, `wendu.cli.api` and
the demo can use it without an import circle; only typer and the standard library load here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from wendu.settings import Settings


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 1, no traceback."""


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


def session_factory(data_dir: Path | None):
    """A session factory on a migrated database in a writable data dir."""
    settings = load_settings(data_dir=data_dir)
    ensure_data_dir(settings.data_dir)
    return migrate(settings)


def ensure_data_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"data dir {path} is not writable: {exc.strerror or exc}") from None


def migrate(settings: Settings):
    """Migrate the database and return a session factory; an unreachable one is a user error."""
    from sqlalchemy.exc import OperationalError

    from wendu.store.db import make_engine, make_session_factory, upgrade

    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise UserError(f"cannot use the database {where}: {exc.orig}") from None
    return make_session_factory(engine)
