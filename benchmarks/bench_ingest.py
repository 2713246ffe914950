"""Events ingested per second (batches of 500) against a plain insert of the same rows.

The full path validates each event against the catalog, stores it once by id, folds it into
the employee's profile, matches the enabled rules and records the firings, all in one
transaction per batch. The baseline inserts the same event rows with SQLAlchemy and nothing
else, so the ratio is the price of everything Wendu does on top of storing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from wendu.event_models import parse_event_list
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.rules.ruleset import load_ruleset
from wendu.store.db import make_engine, make_session_factory, upgrade
from wendu.store.models import Event

BATCH = 500
EXAMPLES = Path(__file__).resolve().parents[1] / "rules" / "examples"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def make_events(n: int, employees: int) -> list[dict]:
    start = date(2026, 1, 5)
    events = []
    for i in range(n):
        emp = f"E{i % employees:05d}"
        day = start + timedelta(days=i // employees)
        clock_in = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
        events.append(
            {
                "id": f"att-{uuid.uuid4().hex}",
                "type": "attendance.day_closed",
                "employee_id": emp,
                "occurred_at": (clock_in + timedelta(hours=13)).isoformat(),
                "data": {
                    "day": day.isoformat(),
                    "clock_in": clock_in.isoformat(),
                    "clock_out": (clock_in + timedelta(hours=12 + i % 3)).isoformat(),
                    "overtime_hours": float(2 + i % 3),
                },
            }
        )
    return events


def hires(employees: int) -> list[dict]:
    return [
        {
            "id": f"hire-{i}",
            "type": "employee.hired",
            "employee_id": f"E{i:05d}",
            "occurred_at": "2025-12-01T00:00:00+00:00",
            "data": {"name": f"Employee {i}", "hired_on": "2024-03-01", "manager_id": "M0"},
        }
        for i in range(employees)
    ]


def database(kind: str, workdir: Path):
    if kind == "sqlite":
        return make_engine(f"sqlite:///{workdir / 'bench.db'}"), None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}), schema


def run(kind: str, n: int, employees: int) -> None:
    index = RuleIndex(load_ruleset([EXAMPLES]).plans)
    with tempfile.TemporaryDirectory() as tmp:
        engine, schema = database(kind, Path(tmp))
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            ingest(session, hires(employees), index)

        events = make_events(n, employees)
        batches = [events[i : i + BATCH] for i in range(0, n, BATCH)]
        fired = 0
        t0 = time.perf_counter()
        for batch in batches:
            with factory.begin() as session:
                outcomes = ingest(session, parse_event_list(batch), index)
                fired += sum(len(o.fired) for o in outcomes)
        full = time.perf_counter() - t0

        rows = [
            {
                "id": e["id"] + "-b",
                "type": e["type"],
                "employee_id": e["employee_id"],
                "occurred_at": datetime.fromisoformat(e["occurred_at"]),
                "data": e["data"],
            }
            for e in events
        ]
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            with factory.begin() as session:
                session.execute(insert(Event), rows[i : i + BATCH])
        plain = time.perf_counter() - t0
        engine.dispose()
        if schema:
            with make_engine(PG_URL).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    print(f"backend: {kind}; {n} events for {employees} employees, batches of {BATCH}")
    print(f"  wendu ingest (validate+store+fold+match+fire): {n / full:10,.0f} events/s"
          f"  ({fired} rule firings)")
    print(f"  baseline plain SQLAlchemy insert:              {n / plain:10,.0f} events/s")
    print(f"  ratio: ingest takes {full / plain:.1f}x the plain insert")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--employees", type=int, default=1_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        run(kind, args.events, args.employees)


if __name__ == "__main__":
    main()
