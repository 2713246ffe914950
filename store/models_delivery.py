"""Tables of the delivery area (on the shared declarative Base; migrations in store/migrations)."""

from __future__ import annotations

from wendu.store.models import Base  # noqa: F401
