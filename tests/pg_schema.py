"""A fresh PostgreSQL schema per test (or per module): its URL, and dropping it after."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import text

from wendu.store.db import make_engine

PG_URL = os.environ.get(
    "WENDU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def new_schema() -> str:
    """Creates an empty schema with a unique name; returns the name."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE SCHEMA "{schema}"')
    return schema


def schema_url(schema: str) -> str:
    """The database URL whose connections work in `schema`."""
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    _admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _admin(sql: str) -> None:
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(sql))
    admin.dispose()
