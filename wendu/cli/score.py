"""`wendu score NAME --input FILE.jsonl`: score records in bulk with a named scorer.

Text scorers (intent, sentiment, topics) read `text` from each line; the others read a feature
record (`{"profile": {...}, "employee": {...}}`, or the profile's fields at the top level) or
an employee id (`{"employee_id": "E1004"}` or a bare JSON string), looked up in the store.
Each output line repeats the input and adds the result. A bad line is reported on stderr with
its line number and skipped; the exit code is 1 if any line was skipped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

TEXT_SCORERS = ("intent", "sentiment", "topics")
BATCH = 512
PROGRESS_EVERY = 5000

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)


class BadLine(Exception):
    pass


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                yield n, BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})")


def _text_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise BadLine("expected a JSON object with a 'text' field")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadLine("field 'text' is missing or not a non-empty string")
    return text


def _phrases(result: dict[str, Any]) -> list[str]:
    return [f["name"] for f in result.get("factors", [])]


def text_output(name: str, record: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    if name == "intent":
        added = {"intent": result["label"], "confidence": result["value"],
                 "phrases": _phrases(result)}
    elif name == "sentiment":
        added = {"label": result["label"], "score": result["value"],
                 "phrases": _phrases(result)}
    else:
        added = {"topics": [{"topic": f["name"], "probability": f["value"],
                             "phrases": f.get("phrases", [])} for f in result["factors"]]}
    return {**record, **added, "model_version": result.get("model_version", "")}


class _Store:
    """Profiles and employee records for lines that give only an employee id."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.factory: Any = None

    def context(self, employee_id: str) -> dict[str, Any]:
        from wendu.store.models import Employee

        if self.factory is None:
            from wendu.cli.common import load_settings
            from wendu.store.db import make_engine, make_session_factory

            self.factory = make_session_factory(make_engine(
                load_settings(data_dir=self.data_dir).sqlalchemy_url))
        from wendu.activities.score_inputs import profile_now

        with self.factory() as session:
            profile = profile_now(session, employee_id)  # as of now, not of the last event
            emp = session.get(Employee, employee_id)
        if profile is None and emp is None:
            raise BadLine(f"no employee {employee_id!r} in the store")
        return {"profile": profile or {},
                "employee": {"id": employee_id, "title": emp.title if emp else None,
                             "department": emp.department if emp else None}}


def _context(record: Any, store: _Store) -> dict[str, Any]:
    if isinstance(record, str):
        return store.context(record)
    if not isinstance(record, dict):
        raise BadLine("expected a JSON object (a feature record) or an employee id string")
    if "profile" in record or "employee" in record:
        profile, employee = record.get("profile") or {}, record.get("employee") or {}
        if not isinstance(profile, dict) or not isinstance(employee, dict):
            raise BadLine("fields 'profile' and 'employee' must be objects")
        return {"profile": profile, "employee": employee}
    if set(record) <= {"employee_id", "id"} and record:
        return store.context(str(record.get("employee_id") or record.get("id")))
    return {"profile": record, "employee": {"id": record.get("employee_id")}}


@app.command()
def score(
    name: Annotated[str, typer.Argument(help="Scorer: intent, sentiment, topics, attrition, "
                                             "burnout, course_recommendation.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL file, one record a line.",
                                        exists=True, dir_okay=False, readable=True)],
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Where to write (default: stdout).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Where trained models live (default: $WENDU_HOME or ~/.wendu).",
        show_default=False)] = None,
) -> None:
    """Score records in bulk with a named scorer (JSONL in, JSONL out)."""
    from wendu.cli.common import UserError, load_settings
    from wendu.scorers.corpora import IntentCatalogError
    from wendu.scorers.registry import ScorerRegistry

    settings = load_settings(data_dir=data_dir)
    registry = ScorerRegistry.default(data_dir=settings.data_dir)
    if name not in registry.names():
        raise UserError(f"unknown scorer {name!r}; known: {', '.join(registry.names())}")
    scorer = registry.get(name)
    total = sum(1 for _ in input.open(encoding="utf-8"))
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    bad = done = 0
    store = _Store(data_dir)

    def report(n: int, message: str) -> None:
        nonlocal bad
        bad += 1
        typer.echo(f"{input}:{n}: {message}; line skipped", err=True)

    def emit(record: dict[str, Any]) -> None:
        nonlocal done
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        done += 1
        if total >= PROGRESS_EVERY and done % PROGRESS_EVERY == 0:
            typer.echo(f"scored {done}/{total}", err=True)

    try:
        if name in TEXT_SCORERS:
            try:
                scorer.model()  # type: ignore[attr-defined]
            except IntentCatalogError as exc:
                raise UserError(str(exc)) from None
            batch: list[tuple[dict[str, Any], str]] = []

            def flush() -> None:
                results = scorer.score_texts([t for _, t in batch])  # type: ignore[attr-defined]
                for (record, _), result in zip(batch, results, strict=True):
                    emit(text_output(name, record, result))
                batch.clear()

            for n, record in _records(input):
                try:
                    if isinstance(record, BadLine):
                        raise record
                    batch.append((record, _text_of(record)))
                except BadLine as exc:
                    report(n, str(exc))
                if len(batch) >= BATCH:
                    flush()
            flush()
        else:
            for n, record in _records(input):
                try:
                    if isinstance(record, BadLine):
                        raise record
                    result = scorer.score(_context(record, store))
                except (BadLine, ValueError, TypeError) as exc:
                    report(n, str(exc))
                    continue
                base = record if isinstance(record, dict) else {"employee_id": record}
                emit({**base, "label": result.get("label", ""), "score": result["value"],
                      "factors": result.get("factors", []),
                      "model_version": result.get("model_version", "")})
    finally:
        if output:
            out.close()
    typer.echo(f"scored {done} record(s) with {name}" + (f"; skipped {bad} bad line(s)"
                                                         if bad else ""), err=True)
    if bad:
        raise typer.Exit(1)
