"""Events ingested per second (batches of 500) against a plain insert of the same rows.

The full path validates each event against the catalog, stores it once by id, folds it into
the employee's profile, matches the enabled rules and records the firings, all in one
transaction per batch. The baseline inserts the same event rows with SQLAlchemy and nothing
else, so the ratio is the price of everything Wendu does on top of storing.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

import wendu.ingest as wendu_ingest
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
    """A migrated, empty database; returns its session factory and a function that drops it."""
    if kind == "sqlite":
        workdir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
        upgrade(engine)
        return make_session_factory(engine), engine.dispose
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return make_session_factory(engine), drop


# Where the time of the full path goes, measured in a second run of its own (the wrappers
# cost a little, so the headline figures above are taken without them).
PHASES = {
    "_insert_events": "store the events",
    "_load_employees": "read employees and profiles",
    "_load_employee_dicts": "read employees and profiles",
    "load_states": "read employees and profiles",
    "fold_state": "fold events into profiles",
    "derive": "derive profile facts",
    "decide": "fast scores and rule match",
    "write_profiles": "write profiles",
    "create_firings": "record firings and decisions",
    "_find_waits": "find waiting workflows",
}


def run(kind: str, n: int, employees: int) -> None:
    index = RuleIndex(load_ruleset([EXAMPLES]).plans)
    events = make_events(n, employees)
    with tempfile.TemporaryDirectory() as tmp:
        factory, done = database(kind, Path(tmp) / "a")
        full, fired = ingest_all(factory, events, employees, index)
        plain = insert_all(factory, events)
        done()
        factory, done = database(kind, Path(tmp) / "b")
        with timed_phases() as phases:
            timed, _ = ingest_all(factory, events, employees, index, phases)
        done()

    print(f"backend: {kind}; {n} events for {employees} employees, batches of {BATCH}")
    print(
        f"  wendu ingest (validate+store+fold+match+fire): {n / full:10,.0f} events/s"
        f"  ({fired} rule firings)"
    )
    print(f"  baseline plain SQLAlchemy insert:              {n / plain:10,.0f} events/s")
    print(f"  ratio: ingest takes {full / plain:.1f}x the plain insert")
    print(f"  where the time goes (a separate run, {timed:.2f} s; x = times the plain insert):")
    phases["other (events, contexts, outcomes)"] = timed - sum(phases.values())
    for name, seconds in phases.items():
        print(f"    {name:38s} {seconds:6.2f} s  {seconds / plain:5.2f}x")


def ingest_all(factory, events, employees, index, phases=None) -> tuple[float, int]:
    with factory.begin() as session:
        ingest(session, hires(employees), index)
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    fired = 0
    t0 = time.perf_counter()
    for batch in batches:
        t = time.perf_counter()
        valid = parse_event_list(batch)
        if phases is not None:
            phases["validate"] += time.perf_counter() - t
        session = factory()
        with session.begin():
            outcomes = ingest(session, valid, index)
            t = time.perf_counter()
        session.close()
        if phases is not None:
            phases["commit"] += time.perf_counter() - t
        fired += sum(len(o.fired) for o in outcomes)
    return time.perf_counter() - t0, fired


def insert_all(factory, events) -> float:
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
    for i in range(0, len(rows), BATCH):
        with factory.begin() as session:
            session.execute(insert(Event), rows[i : i + BATCH])
    return time.perf_counter() - t0


@contextlib.contextmanager
def timed_phases():
    """Seconds per phase of `wendu.ingest`, by wrapping the functions each phase calls."""
    phases: dict[str, float] = dict.fromkeys(
        ["validate", *dict.fromkeys(PHASES.values()), "commit"], 0.0
    )
    originals = {name: getattr(wendu_ingest, name) for name in PHASES}

    def wrap(name, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[PHASES[name]] += time.perf_counter() - t

        return timed

    for name, fn in originals.items():
        setattr(wendu_ingest, name, wrap(name, fn))
    try:
        yield phases
    finally:
        for name, fn in originals.items():
            setattr(wendu_ingest, name, fn)


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
