"""Profile rows in batches: the states of a batch's employees, locked, and one UPDATE for all.

Ingestion reads only the state (the facts are derived from it) and writes facts and state as
JSON text it encodes itself; the text is what the columns' JSON type would write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import JSON, Text, bindparam, cast, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wendu.rules.catalog import profile_defaults
from wendu.sqlbatch import execute_many
from wendu.store import jsontext, profile_cache
from wendu.store.models import Profile

CHUNK = 500  # keeps IN (...) lists and multi-row VALUES well inside every backend's limits


_PROFILES = Profile.__table__


def load_states(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The state of every profile of the batch, locked; missing ones are created empty first.

    Facts are not read: the fold derives them from the state alone. A state this process
    wrote last is taken from `profile_cache` (its row's `updated_at` says it is still the
    one stored); only the others are read."""
    database = profile_cache.database_of(session)

    def load(chunk: list[str]) -> dict[str, dict[str, Any]]:
        q = (
            select(_PROFILES.c.employee_id, _PROFILES.c.updated_at)
            .where(_PROFILES.c.employee_id.in_(chunk))
            .order_by(_PROFILES.c.employee_id)
            .with_for_update()
        )
        out: dict[str, dict[str, Any]] = {}
        unread: list[str] = []
        for pid, updated_at in session.execute(q):
            state = profile_cache.kept(database, pid, updated_at)
            if state is None:
                unread.append(pid)
            else:
                out[pid] = state
        if unread:  # already locked above, in this transaction
            q = select(_PROFILES.c.employee_id, _PROFILES.c.state).where(
                _PROFILES.c.employee_id.in_(unread))
            out.update((pid, state or {}) for pid, state in session.execute(q))
        return out

    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        found.update(load(chunk))
    missing = [i for i in ids if i not in found]
    if missing:
        defaults = profile_defaults()
        rows = [
            {"employee_id": i, "facts": {**defaults, "employee_id": i}, "state": {}}
            for i in missing
        ]
        stmt = _insert(session.get_bind().dialect.name).on_conflict_do_nothing(
            index_elements=["employee_id"]
        )
        for chunk in _chunks(rows):
            session.execute(stmt, chunk)
        for chunk in _chunks(missing):
            found.update(load(chunk))  # a concurrent batch may have created some: lock them
    return found


def write_profiles(
    session: Session, states: dict[str, dict[str, Any]], facts: Mapping[str, Any]
) -> None:
    now = profile_cache.stamp()
    rows = [
        {
            "p_employee_id": eid,
            "p_facts": _to_json(facts[eid]),
            "p_state": _to_json(state),
            "p_updated_at": now,
        }
        for eid, state in states.items()
    ]
    execute_many(session, _profile_update(session.get_bind().dialect.name), rows)
    profile_cache.keep_after_commit(session, profile_cache.database_of(session),
                                    {eid: (now, state) for eid, state in states.items()})


# The text the columns' JSON type writes (the engine's serializer, `wendu.store.jsontext`).
_to_json = jsontext.dumps


@cache
def _profile_update(dialect: str) -> Any:
    """One executemany by primary key, the JSON bound as the text made above."""

    def json_text(name: str) -> Any:
        param = bindparam(name, type_=Text)
        # SQLite keeps JSON as text (a CAST there would apply numeric affinity to it).
        return cast(param, JSON) if dialect == "postgresql" else param

    return (
        update(_PROFILES)
        .where(_PROFILES.c.employee_id == bindparam("p_employee_id"))
        .values(
            facts=json_text("p_facts"),
            state=json_text("p_state"),
            updated_at=bindparam("p_updated_at", type_=_PROFILES.c.updated_at.type),
        )
    )


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(Profile)
    if dialect == "sqlite":
        return sqlite.insert(Profile)
    raise RuntimeError(f"unsupported database: {dialect}")


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
