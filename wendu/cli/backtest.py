"""`wendu rules backtest RULE_FILE`: what a draft rule would have done, next to the live one.

Events come from the database (`WENDU_DATABASE_URL`, or the data dir's SQLite file) or from a
JSONL file (`--events`, e.g. the `events.jsonl` of `wendu demo generate`). The live version is
the one the database runs for the same rule id, or `--live FILE`. Nothing is stored or sent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from wendu.backtest import Report


class BacktestError(Exception):
    """A mistake in the command's input, printed as one line."""


def backtest(
    rule_file: Annotated[Path, typer.Argument(help="The draft rule (a YAML file).")],
    since: Annotated[str, typer.Option(help="How far back: 90d, 12w, ... before --until.")]
    = "90d",
    until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"],
                     help="End of the window (default: now)."),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Replay a JSONL file of events instead of the stored ones."),
    ] = None,
    live: Annotated[
        Path | None,
        typer.Option(help="The live version's file (default: the version the database runs)."),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(envvar="WENDU_DATA_DIR",
                                                  help="Data dir (its database).")] = None,
    top: Annotated[int, typer.Option(help="How many of the most-messaged people to list.",
                                     min=1)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Replay past events through a draft rule (and its live version) and count what it does:
    firings, people, messages per channel and recipient, tasks, by week. Sends nothing."""
    from wendu.backtest import backtest as run
    from wendu.rules.durations import DurationError, parse_duration

    try:
        window = timedelta(seconds=parse_duration(since))
    except DurationError as exc:
        _fail(f"--since: {exc}")
    end = (until or datetime.now(UTC))
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    if until is not None and until.hour == until.minute == until.second == 0:
        end += timedelta(days=1)  # a date means the whole day
    start = end - window
    draft = _plan(rule_file)
    try:
        source = _Source(events, data_dir, end)
        versions = [("draft", draft)]
        current = _plan(live) if live else source.live_plan(draft.rule_id)
        if current is not None and current.digest != draft.digest:
            versions.insert(0, ("live", current))
        with _progress(source.total) as advance:
            report = run(source.events(), versions, since=start, until=end,
                         employees=source.employees(), progress=advance,
                         max_age=source.max_age)
    except BacktestError as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.as_dict(top), ensure_ascii=False, indent=2))
    else:
        typer.echo(render(report, top, same_as_live=current is not None and len(versions) == 1))


def _fail(message: str) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _plan(path: Path) -> Any:
    from wendu.rules.ruleset import load_ruleset

    if not path.is_file():
        _fail(f"{path}: no such rule file")
    result = load_ruleset([path])
    for problem in result.problems:
        typer.echo(str(problem), err=True)
    if result.errors or not result.plans:
        _fail(f"{path}: the rule does not compile")
    return result.plans[0]


class _Source:
    """Events in time order, from a JSONL file or the store, and the records known before."""

    def __init__(self, path: Path | None, data_dir: Path | None, until: datetime) -> None:
        self.path, self.until = path, until
        self.stored = None
        # Stored events carry when they arrived: each is judged by the site's window, as live
        # ingest judged it. A file's events count as arrived on time.
        self.max_age: int | None = None
        if path is None:
            from wendu.backtest_source import StoredHistory
            from wendu.cli.common import load_settings
            from wendu.store.db import make_engine, make_session_factory

            settings = load_settings(data_dir=data_dir)
            self.max_age = settings.max_event_age_seconds
            factory = make_session_factory(make_engine(settings.sqlalchemy_url))
            self.stored = StoredHistory(factory, until)
            self.total = self._count()
        else:
            self.loaded = _read_jsonl(path)
            self.total = len(self.loaded)

    def _count(self) -> int:
        try:
            return self.stored.count()  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - no database yet, or another schema
            raise BacktestError(f"cannot read the stored events ({type(exc).__name__}); run "
                                "`wendu db upgrade`, or pass --events FILE") from None

    def events(self) -> Iterator[Any]:
        if self.stored is None:
            yield from self.loaded
        else:
            yield from self.stored.events()

    def employees(self) -> dict[str, dict[str, Any]]:
        return {} if self.stored is None else self.stored.employees()

    def live_plan(self, rule_id: str) -> Any:
        return None if self.stored is None else self.stored.live_plan(rule_id)


def _read_jsonl(path: Path) -> list[Any]:
    """Validated, normalised events of a JSONL file, in time order; errors as file:line."""
    from wendu.event_models import EventValidationError, parse_event_list
    from wendu.ingest import _normalize

    if not path.is_file():
        raise BacktestError(f"{path}: no such file")
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(_normalize(parse_event_list([json.loads(line)])[0]))
            except json.JSONDecodeError as exc:
                raise BacktestError(f"{path}:{number}:{exc.colno}: not JSON: {exc.msg}") from None
            except EventValidationError as exc:
                first = exc.errors[0]
                field = str(first["field"]).removeprefix("[0].").removeprefix("[0]")
                raise BacktestError(f"{path}:{number}: {field or 'event'}: {first['msg']}") \
                    from None
    out.sort(key=lambda e: (e.occurred_at, e.id))
    return out


class _progress:
    """A progress bar on stderr while the replay runs; none when stderr is not a terminal
    (a pipe, a CI log), so `--json` output stays clean."""

    def __init__(self, total: int) -> None:
        shown = sys.stderr.isatty()
        self.bar = (typer.progressbar(length=total, label="replaying", file=sys.stderr)
                    if shown else None)

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.__enter__()
        return self.bar.update

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def render(report: Report, top: int = 10, same_as_live: bool = False) -> str:
    """The report as a side-by-side table, one column per version."""
    tallies = report.tallies
    window = (f"{report.since:%Y-%m-%d} .. {report.until:%Y-%m-%d}"
              if report.since and report.until else "all events")
    lines = [f"Backtest of {tallies[-1].rule_id} over {window}: {report.in_window:,} events "
             f"of its trigger in the window ({report.events:,} replayed). Nothing was sent."]
    if same_as_live:
        lines.append("The draft is the version live now.")
    heads = [f"{t.label} v{t.version}" for t in tallies]

    def row(name: str, values: list[Any]) -> None:
        lines.append(f"  {name:<28}" + "".join(f"{v!s:>14}" for v in values))

    lines.append(f"  {'':<28}" + "".join(f"{h:>14}" for h in heads))
    row("fired", [len(t.fired) for t in tallies])
    row("people", [t.people for t in tallies])
    row("repeats (same dedupe key)", [t.repeats for t in tallies])
    if any(t.cooldown for t in tallies):
        row("cooldown (fired recently)", [t.cooldown for t in tallies])
    if any(t.held_out for t in tallies):
        row("held out (holdout)", [t.held_out for t in tallies])
    row("messages", [t.messages for t in tallies])
    for channel in sorted({c for t in tallies for c in t.channels}):
        row(f"  {channel}", [t.channels.get(channel, 0) for t in tallies])
    row("tasks opened", [t.tasks for t in tallies])
    if any(t.stale for t in tallies):
        row("stale (arrived too old)", [t.stale for t in tallies])
    weeks = sorted({w for t in tallies for w in t.by_week})
    if weeks:
        lines.append("  fired by week")
        for week in weeks:
            row(f"  {week}", [t.by_week.get(week, 0) for t in tallies])
    for t in tallies:
        if t.recipients:
            lines.append(f"  most-messaged people ({t.label}): " + ", ".join(
                f"{report.who(who)} {n}" for who, n in t.recipients.most_common(top)))
        notes = [*(f"{n} x nobody for {role}" for role, n in t.unresolved.items()),
                 *(f"{n} x {why}" for why, n in t.partial.items()),
                 *(f"{n} x not evaluated: {why}" for why, n in t.errors.items())]
        for note in notes:
            lines.append(f"  {t.label}: {note}")
    return "\n".join(lines)
