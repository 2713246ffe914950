"""`GET /api/v1/impact`: per rule, what happened after it acted, for dashboards elsewhere.

The same figures as the console's dashboard (`wendu.impact`): each rule's outcome before and
after it acted, an observation unless the rule holds out a control group, then the difference
against the held-out people with its 95% confidence interval.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from wendu.api.deps import SessionDep, require_scope
from wendu.impact import impact_per_rule
from wendu.store.models import utcnow

router = APIRouter(
    prefix="/api/v1/impact",
    tags=["rules"],
    dependencies=[Depends(require_scope("rules:admin"))],
)


@router.get("")
def list_impact(session: SessionDep,
                rule: Annotated[list[str] | None, Query(description="Rule ids (repeatable)")]
                = None) -> list[dict[str, Any]]:
    """Per rule with an outcome metric: kind (observation or experiment), the acted-on and
    held-out groups (people, mean before, after, change) and the difference with its CI."""
    return [i.as_dict() for i in impact_per_rule(session, utcnow(), rule)]
