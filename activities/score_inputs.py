"""What a `score` step's scorer sees beyond the rule context, and what it leaves in the profile.

Feedback text is sensitive: a rule that scores "the employee's recent feedback" never carries
the text in its workflow history. The SCORE activity reads it from the store here, and the
phrases the text models quote back are dropped from the result, so only labels and topic names
reach the workflow, the firing record and the manager.

A burnout score compares the employee's load with their team's: no single profile carries that,
so the SCORE activity reads the team's profiles here too (`with_team_overtime`).
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from wendu.ingest import employee_dict
from wendu.store.db import transaction
from wendu.store.models import Employee, Event, Profile
from wendu.store.profile import derive

# `with: {feedback_days: 30}` on a text scorer: score the feedback of the last N days.
FEEDBACK_DAYS_ARG = "feedback_days"
FEEDBACK_KEPT = 20  # the latest items are enough to read the mood; older ones are history
# Fewer colleagues with attendance make one person's month the "team culture": no baseline.
TEAM_MIN_MEMBERS = 3
RECENT_DAYS = 28  # the 4 recent weeks of profile.overtime_hours_28d


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def recent_feedback(
    factory: sessionmaker[Session], employee_id: str, days: float, as_of: Any
) -> list[str]:
    """The employee's feedback texts of the `days` before `as_of` (the firing event's time)."""
    end = _aware(as_of) or datetime.now(UTC)
    start = end - timedelta(days=days)
    with factory() as session:
        rows = session.execute(
            select(Event.occurred_at, Event.data)
            .where(Event.employee_id == employee_id, Event.type == "feedback.submitted")
            .order_by(Event.occurred_at.desc())
            .limit(FEEDBACK_KEPT)
        ).all()
    texts = []
    for occurred, data in rows:
        at = _aware(occurred)
        text = (data or {}).get("text")
        if at is not None and start <= at <= end + timedelta(minutes=5) and isinstance(text, str):
            texts.append(text)
    return list(reversed(texts))


def without_quotes(factors: list[dict[str, Any]], texts: list[str]) -> list[dict[str, Any]]:
    """Factors with every quoted phrase of `texts` removed (topic names and numbers stay)."""
    joined = "\n".join(texts).lower()
    kept = []
    for factor in factors:
        name = str(factor.get("name", ""))
        if name and name.lower() in joined:
            continue  # the factor is itself a phrase of the text
        kept.append({k: v for k, v in factor.items() if k != "phrases"})
    return kept


def team_overtime(
    factory: sessionmaker[Session], employee_id: str, latest_day: str, as_of: Any = None
) -> tuple[float, int]:
    """(mean overtime_hours_28d, members) of the employee's team, in one query.

    The team is the active employees who share the employee's manager, the employee included
    (as in the training data). Each colleague's 28 days are derived from their state as of
    `as_of` (the employee's reading; None: each one's latest event), so a month that ended
    weeks ago does not count in full. A colleague counts if their latest attendance day falls
    in the employee's 4 recent weeks: an old month of someone on long leave is not today's."""
    since = (date.fromisoformat(latest_day[:10]) - timedelta(days=RECENT_DAYS)).isoformat()
    manager = select(Employee.manager_id).where(Employee.id == employee_id).scalar_subquery()
    query = (
        select(Employee.id, Employee.timezone, Profile.state)
        .select_from(Profile)
        .join(Employee, Employee.id == Profile.employee_id)
        .where(Employee.manager_id == manager, Employee.active.is_(True))
    )
    with factory() as session:
        rows = session.execute(query).all()
    loads = []
    for eid, zone, state in rows:
        facts = derive(state or {}, {"id": eid, "timezone": zone}, as_of)
        day = facts.get("last_attendance_day")
        if day and day > since:
            loads.append(float(facts["overtime_hours_28d"]))
    return (sum(loads) / len(loads) if loads else 0.0), len(loads)


def with_team_overtime(
    factory: sessionmaker[Session], employee_id: str, context: dict[str, Any]
) -> dict[str, Any]:
    """The context with `features.overtime_vs_team`: the employee's mean weekly overtime of the
    last 4 weeks minus their team's, as scorers/features.py defines it for training.

    Left out (so the scorer imputes it and says so) without the employee's own attendance or
    with fewer than TEAM_MIN_MEMBERS in the team."""
    profile = context.get("profile") or {}
    features = dict(context.get("features") or {})
    own, latest_day = profile.get("overtime_hours_28d"), profile.get("last_attendance_day")
    if features.get("overtime_vs_team") is not None or own is None or not latest_day:
        return context
    mean, members = team_overtime(factory, employee_id, str(latest_day), profile.get("as_of"))
    if members < TEAM_MIN_MEMBERS:
        return context
    features["overtime_vs_team"] = round((float(own) - mean) / 4, 4)
    return {**context, "features": features}


def latest_profile(factory: sessionmaker[Session], employee_id: str) -> dict[str, Any] | None:
    """The profile as of now (a step that runs weeks after its firing reads today's facts)."""
    with factory() as session:
        return profile_now(session, employee_id)


def profile_now(session: Session, employee_id: str) -> dict[str, Any] | None:
    """The employee's facts derived as of now from the stored state (the row's facts date
    from their latest event); None for an employee without a profile."""
    row = session.get(Profile, employee_id)
    if row is None or not row.state:
        return dict(row.facts) if row is not None and row.facts else None
    employee = employee_dict(session.get(Employee, employee_id), employee_id)
    return derive(row.state, employee, datetime.now(UTC))


def store_score(
    factory: sessionmaker[Session], employee_id: str, scorer: str, result: dict[str, Any]
) -> None:
    """profile.scores[scorer] = the latest result, kept in the state so a fold keeps it too."""
    entry = {
        "value": result["value"],
        "label": result.get("label", ""),
        "model_version": result.get("model_version", ""),
        "at": datetime.now(UTC).isoformat(),
    }
    with transaction(factory) as session:
        # Take the row's write lock before reading it: SQLite ignores FOR UPDATE, and two score
        # steps for one employee would otherwise both read, and the second write drop the first.
        session.execute(
            update(Profile)
            .where(Profile.employee_id == employee_id)
            .values(employee_id=Profile.employee_id)
        )
        row = session.get(Profile, employee_id, with_for_update=True, populate_existing=True)
        if row is None:
            return  # an employee the store does not know has no profile to keep it in
        state = copy.deepcopy(row.state or {})
        facts = copy.deepcopy(row.facts or {})
        state["scores"] = {**(state.get("scores") or {}), scorer: entry}
        facts["scores"] = copy.deepcopy(state["scores"])
        row.state, row.facts = state, facts
