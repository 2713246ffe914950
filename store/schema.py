"""Every table of every area, imported together for Alembic and the schema tests."""

from wendu.store import models  # noqa: F401
from wendu.store import models_accounts  # noqa: F401
from wendu.store import models_delivery  # noqa: F401
from wendu.store import models_ml  # noqa: F401
from wendu.store.models import Base

metadata = Base.metadata
