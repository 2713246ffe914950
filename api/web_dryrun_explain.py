"""What a dry run says beyond "would fire": each condition with the values it read, whether
the key has fired before, and a sample event of the rule's own trigger type to start from."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args, get_origin

from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.rules.catalog import EVENT_TYPES
from wendu.rules.expressions import compiled_expression, flat_context, referenced_fields
from wendu.rules.matcher import rule_context
from wendu.rules.plan import Plan
from wendu.store.models import Employee, Event, Firing, utcnow

ROOTS = ("event", "profile", "employee", "schedule")


def explain_conditions(plan: Plan, ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every `when` condition in order: held (True/False, None when it could not be
    evaluated), the error if any, and the value of each field it reads."""
    flat = flat_context(ctx)
    flat["rule"] = rule_context(plan)
    flat.update(plan.tables)
    out = []
    for expr in plan.when:
        values: dict[str, Any] = {}
        for name in referenced_fields(expr.source, ROOTS):
            root, _, attr = name.partition(".")
            container = flat.get(root)
            if isinstance(container, Mapping):
                values[name] = container.get(attr)
        held: bool | None
        try:
            held, error = bool(compiled_expression(expr.source).fn(flat)), None
        except Exception as exc:  # noqa: BLE001 - shown to the rule's author
            held, error = None, str(exc)
        out.append({"source": expr.source, "held": held, "error": error, "values": values})
    return out


def fired_before(session: Session, workflow_id: str) -> dict[str, Any] | None:
    """The firing already started under this workflow id (live ingest would do nothing)."""
    row = session.execute(select(Firing.status, Firing.created_at)
                          .where(Firing.workflow_id == workflow_id)).first()
    if row is None:
        return None
    at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return {"status": row.status, "at": at.isoformat()}


def first_employee(session: Session) -> str | None:
    return session.scalars(select(Employee.id).where(Employee.active.is_(True))
                           .order_by(Employee.id).limit(1)).first()


def sample_event(session: Session, kind: str | None) -> dict[str, Any] | None:
    """An event of type `kind` to dry-run a rule on: the latest stored one, else one made
    from the catalog's required fields for that type."""
    if kind is None:
        return None
    latest = session.scalars(select(Event).where(Event.type == kind)
                             .order_by(Event.occurred_at.desc()).limit(1)).first()
    if latest is not None:
        return {"type": kind, "employee_id": latest.employee_id,
                "occurred_at": latest.occurred_at.isoformat(), "data": dict(latest.data)}
    someone = first_employee(session)
    spec = EVENT_TYPES.get(kind)
    data = {name: _placeholder(f.type) for name, f in (spec.fields if spec else {}).items()
            if f.required}
    return {"type": kind, "employee_id": someone or "E1001",
            "occurred_at": utcnow().isoformat(), "data": data}


def _placeholder(kind: Any) -> Any:
    if get_origin(kind) is Literal:
        return get_args(kind)[0]
    base = get_args(kind)[0] if get_args(kind) and get_origin(kind) is not list else kind
    now = utcnow()
    if get_origin(kind) is list:
        return []
    if base is bool:
        return True
    if base in (int, float):
        return 1
    if base is datetime:
        return now.isoformat()
    if base is date:
        return now.date().isoformat()
    return "example"
