"""What happened after a rule acted, compared with before, and with a control group if it has one.

For each rule with an outcome the events already carry (overtime hours on closed working days
for an attendance rule, survey satisfaction for a survey rule, or the numeric event field the
rule names in `impact: {metric: ..., better: lower}`), each person the rule fired for
is one observation: the mean of that outcome over their events in the 4 weeks before the
firing, and over those after it (up to 4 weeks; a recent firing has fewer days after). Each
person counts once, at their first firing in the window.

Without a holdout this is an observation and says so: people are alerted when their numbers
peak, so part of any change would have happened anyway (regression to the mean), and the
season, projects and managers changed too. With `holdout:` the rule also fired, silently, for
a random share of the people it matched; comparing their change with the acted-on people's is
a randomised experiment, and the difference comes with a 95% confidence interval (Welch).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wendu.sqlbatch import chunks
from wendu.store.models import Event, Firing, Rule, RuleVersion


@dataclass(frozen=True)
class Metric:
    """A numeric field of an event type, and which way is better."""

    event_type: str
    field: str
    better: Literal["lower", "higher"]

    @property
    def name(self) -> str:
        return f"{self.event_type}.{self.field}"


# A rule's outcome by the event it triggers on: the measure it exists to move.
METRICS = {
    "attendance.day_closed": Metric("attendance.day_closed", "overtime_hours", "lower"),
    "survey.response": Metric("survey.response", "satisfaction", "higher"),
}
WINDOW = timedelta(weeks=4)
LOOKBACK = timedelta(weeks=26)  # firings considered: the last half year
ACTED = ("started",)  # a workflow that ran; pending and failed ones reached nobody yet
MIN_GROUP = 2  # people per group before a confidence interval means anything


@dataclass
class Group:
    people: int = 0
    before: float | None = None
    after: float | None = None
    change: float | None = None  # mean of each person's (after - before)
    sd: float | None = None  # standard deviation of those changes
    changes: list[float] = field(default_factory=list, repr=False)

    @classmethod
    def of(cls, pairs: list[tuple[float, float]]) -> Group:
        if not pairs:
            return cls()
        changes = [a - b for b, a in pairs]
        return cls(len(pairs), _r(statistics.mean(b for b, _ in pairs)),
                   _r(statistics.mean(a for _, a in pairs)), _r(statistics.mean(changes)),
                   _r(statistics.stdev(changes)) if len(changes) > 1 else None, changes)


@dataclass
class Impact:
    rule_id: str
    metric: str
    better: str
    # observation: before vs after only; experiment: acted-on vs held-out as well.
    kind: Literal["observation", "experiment"]
    acted: Group
    held_out: Group | None = None
    # acted.change - held_out.change: the rule's effect, and its 95% confidence interval.
    difference: float | None = None
    ci: tuple[float, float] | None = None
    no_data: int = 0  # people fired for without outcome events on both sides

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for group in ("acted", "held_out"):
            if out[group] is not None:
                out[group].pop("changes")
        return out


def metric_of(plan: dict[str, Any] | None, event_type: str | None) -> Metric | None:
    """The rule's own `impact:` (its stored plan's), else the default for its trigger."""
    declared = (plan or {}).get("impact")
    if declared:
        return Metric(declared["event"], declared["field"], declared["better"])
    return METRICS.get(event_type or "")


def impact_per_rule(session: Session, now: datetime,
                    rules: Iterable[str] | None = None) -> list[Impact]:
    """The impact of each rule with an outcome metric (its own, or its trigger's), by id."""
    q = (select(Rule.id, Rule.event_type, RuleVersion.plan)
         .outerjoin(RuleVersion, (RuleVersion.rule_id == Rule.id)
                    & (RuleVersion.digest == Rule.current_digest))
         .order_by(Rule.id))
    found = [(r, m) for r, t, plan in session.execute(q)
             if (m := metric_of(plan, t)) is not None]
    if rules is not None:
        wanted = set(rules)
        found = [(r, m) for r, m in found if r in wanted]
    return [impact(session, rule_id, metric, now) for rule_id, metric in found]


def impact(session: Session, rule_id: str, metric: Metric, now: datetime) -> Impact:
    firsts = _first_firings(session, rule_id, now - LOOKBACK)
    values = _outcomes(session, metric, firsts)
    pairs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    missing = 0
    for emp, (at, held) in firsts.items():
        series = values.get(emp, [])
        before = [v for t, v in series if at - WINDOW <= t < at]
        after = [v for t, v in series if at < t <= at + WINDOW]
        if before and after:
            pairs[held].append((statistics.mean(before), statistics.mean(after)))
        else:
            missing += 1
    acted = Group.of(pairs[False])
    held_any = any(held for _, held in firsts.values())
    result = Impact(rule_id, metric.name, metric.better,
                    "experiment" if held_any else "observation", acted, no_data=missing)
    if held_any:
        result.held_out = Group.of(pairs[True])
        result.difference, result.ci = welch(acted.changes, result.held_out.changes)
    return result


def welch(a: list[float], b: list[float]) -> tuple[float | None, tuple[float, float] | None]:
    """mean(a) - mean(b) and its 95% confidence interval (Welch's t), None with too few."""
    if len(a) < MIN_GROUP or len(b) < MIN_GROUP:
        diff = statistics.mean(a) - statistics.mean(b) if a and b else None
        return (_r(diff) if diff is not None else None), None
    from scipy.stats import t as student_t

    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.mean(a) - statistics.mean(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return _r(diff), (_r(diff), _r(diff))
    dof = (va + vb) ** 2 / ((va**2 / (len(a) - 1)) + (vb**2 / (len(b) - 1)))
    half = float(student_t.ppf(0.975, dof)) * se
    return _r(diff), (_r(diff - half), _r(diff + half))


def _first_firings(session: Session, rule_id: str, since: datetime
                   ) -> dict[str, tuple[datetime, bool]]:
    """employee -> (when the rule first fired for them since `since`, held out or not)."""
    when = func.coalesce(Event.occurred_at, Firing.created_at)
    q = (select(Firing.employee_id, Firing.status, when)
         .outerjoin(Event, Event.id == Firing.event_id)
         .where(Firing.rule_id == rule_id, Firing.employee_id.is_not(None),
                Firing.status.in_((*ACTED, "held_out")), when >= since)
         .order_by(when))
    firsts: dict[str, tuple[datetime, bool]] = {}
    for emp, status, at in session.execute(q):
        firsts.setdefault(emp, (at, status == "held_out"))
    return firsts


def _outcomes(session: Session, metric: Metric, firsts: dict[str, tuple[datetime, bool]]
              ) -> dict[str, list[tuple[datetime, float]]]:
    if not firsts:
        return {}
    start = min(at for at, _ in firsts.values()) - WINDOW
    end = max(at for at, _ in firsts.values()) + WINDOW
    found: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for chunk in chunks(sorted(firsts)):
        q = select(Event.employee_id, Event.occurred_at, Event.data).where(
            Event.type == metric.event_type, Event.employee_id.in_(chunk),
            Event.occurred_at >= start, Event.occurred_at <= end)
        for emp, at, data in session.execute(q):
            value = (data or {}).get(metric.field)
            if isinstance(value, int | float) and not isinstance(value, bool):
                found[emp].append((at, float(value)))
    return found


def _r(value: float) -> float:
    return round(value, 2)
