"""Every table of every area, imported together for Alembic and the schema tests."""

from wendu.store import models, models_accounts, models_preferences  # noqa: F401
from wendu.store.models import Base

metadata = Base.metadata
