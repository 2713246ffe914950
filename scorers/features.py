"""Features of the tabular scorers: one definition, read from two places.

Training reads them from a generated company (`company_columns`); scoring reads them from a
rule's context (`context_record`: the employee record, then the profile facts, then any
`features` mapping the caller adds). The windowed facts follow the profile's own definitions
(store/profile.py): 7 days = the last week, 28 days = the last 4 weeks, satisfaction trend =
least-squares slope of the last 5 surveys, drop = mean of the 5 before the last minus the last.
The weekly ones too: the profile cuts its 26 weeks of daily overtime into 7-day blocks ending
at the latest day, and computes the own baseline and the streak as `company_columns` does.
Pay ratio, commute, level, promotion date and manager changes come from employee events;
`years_since_promotion` is counted to the scoring time (`as_of` in the context, else now).
The team baseline (`overtime_vs_team`) is no fact of one profile: the SCORE activity reads the
team's profiles and passes it under `features` (activities/score_inputs.py).

A fact the context does not carry (no employee event with pay yet, fewer than 8 weeks of
attendance, no team to compare with) is imputed with the training median by `Encoder`, and
the scorer says so in its explanation.

`read_ibm_csv` (scorers/ibm_layout.py) reads a user's file in the IBM HR Analytics attrition
layout; `write_ibm_layout` writes a generated company in it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from wendu.scorers.ibm_layout import (  # noqa: F401 - the IBM names, as callers import them
    IBM_CATEGORICAL,
    IBM_DROPPED,
    IBM_LEVELS,
    IBM_LOGGED,
    IBM_NUMERIC,
    IBM_PROTECTED,
    DataError,
    TabularData,
    read_ibm_csv,
)
from wendu.scorers.synth import Company

ATTRITION_FEATURES = (
    "overtime_hours_28d", "late_departures_7d", "weekend_days_7d", "satisfaction_last",
    "satisfaction_trend", "satisfaction_drop", "tenure_days", "performance_overall",
    "training_completed_90d", "pay_ratio", "years_since_promotion", "manager_changes_1y",
    "commute_km", "level",
)
BURNOUT_FEATURES = (
    # Late and weekend days over 7 days only: that is what a live profile carries, and their
    # 28-day sums would split one signal between two collinear columns.
    "overtime_hours_7d", "overtime_hours_28d", "late_departures_7d", "weekend_days_7d",
    "overtime_vs_own_baseline", "overtime_vs_team", "overtime_streak_weeks", "leave_days_90d",
)
FAIRNESS_GROUPS = ("gender", "age_band", "department")
DAYS_PER_YEAR = 365.25


def _slope(y: np.ndarray) -> np.ndarray:
    """Row-wise least-squares slope against 0, 1, 2, ... (as store/profile.py computes it)."""
    k = y.shape[1]
    if k < 2:
        return np.zeros(len(y))
    x = np.arange(k) - (k - 1) / 2
    return (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x)


def company_columns(c: Company) -> dict[str, np.ndarray]:
    """Every feature (and the fairness groups) as of the snapshot, one array per name."""
    e, n = c.employees, len(c)
    sat = c.satisfaction
    earlier = c.overtime[:, :-4].mean(axis=1)
    now = c.overtime[:, -4:].mean(axis=1)
    team = e["team"]
    team_now = np.bincount(team, now) / np.bincount(team)
    over = (c.overtime > 1.5 * earlier[:, None]) & (c.overtime > 8)
    streak = np.argmin(np.concatenate([over[:, ::-1], np.zeros((n, 1), bool)], 1), axis=1)
    t = c.trainings
    return {
        "overtime_hours_7d": c.overtime[:, -1],
        "overtime_hours_28d": c.overtime[:, -4:].sum(axis=1),
        "late_departures_7d": c.late[:, -1].astype(float),
        "weekend_days_7d": c.weekend[:, -1].astype(float),
        "late_departures_28d": c.late[:, -4:].sum(axis=1).astype(float),
        "weekend_days_28d": c.weekend[:, -4:].sum(axis=1).astype(float),
        "overtime_vs_own_baseline": now - earlier,
        "overtime_vs_team": now - team_now[team],
        "overtime_streak_weeks": streak.astype(float),
        "leave_days_90d": c.leave[:, -13:].sum(axis=1).astype(float),
        "satisfaction_last": sat[:, -1],
        "satisfaction_trend": _slope(sat[:, -5:]),
        "satisfaction_drop": sat[:, -6:-1].mean(axis=1) - sat[:, -1] if sat.shape[1] > 1
        else np.zeros(n),
        "tenure_days": e["tenure_days"].astype(float),
        "performance_overall": c.reviews["overall"][:, -1],
        "training_completed_90d": np.bincount(t["employee"][t["week"] >= c.weeks - 13],
                                              minlength=n).astype(float),
        "pay_ratio": e["pay_ratio"],
        "years_since_promotion": e["years_since_promotion"].astype(float),
        "manager_changes_1y": e["manager_changes_1y"].astype(float),
        "commute_km": e["commute_km"],
        "level": e["level"].astype(float),
        "gender": e["gender"],
        "age_band": e["age_band"],
        "department": e["department"],
    }


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _as_of(context: Mapping[str, Any]) -> date:
    """The scoring time's date: a context's `as_of` (a date or ISO time), else the time its
    profile was read as of, else today (UTC)."""
    value = context.get("as_of") or (context.get("profile") or {}).get("as_of")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return datetime.now(UTC).date()


def _years_since(day: Any, as_of: date) -> float | None:
    try:
        since = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    except ValueError:
        return None
    return round(max((as_of - since).days, 0) / DAYS_PER_YEAR, 2)


def context_record(context: Mapping[str, Any]) -> dict[str, Any]:
    """The features a rule context carries; absent ones are simply not in the result.

    `years_since_promotion` is derived from the profile's `last_promoted_on` here rather than
    folded: a profile's facts date from its latest event, and a weekly scan of a quiet
    employee should still see the years pass."""
    record: dict[str, Any] = {}
    for source in ("employee", "profile"):
        for key, value in (context.get(source) or {}).items():
            if value is not None:
                record[key] = value
    if record.get("last_promoted_on") is not None:
        years = _years_since(record["last_promoted_on"], _as_of(context))
        if years is not None:
            record["years_since_promotion"] = years
    for key, value in (context.get("features") or {}).items():
        if value is not None:
            record[key] = value
    return record


def _ibm_from_record(r: Mapping[str, Any]) -> dict[str, Any]:
    """A live record read in IBM columns, so a model trained on a user's CSV scores profiles.

    IBM satisfaction and ratings run 1-4, ours 1-5; "OverTime" there is a yes/no flag, here a
    month with 20 or more overtime hours."""
    def scaled(key: str) -> float | None:
        v = _number(r.get(key))
        return None if v is None else 1 + (v - 1) * 3 / 4

    out: dict[str, Any] = {}
    ot = _number(r.get("overtime_hours_28d"))
    if ot is not None:
        out["OverTime"] = "Yes" if ot >= 20 else "No"
    tenure = _number(r.get("tenure_days"))
    pairs = {
        "JobSatisfaction": scaled("satisfaction_last"),
        "EnvironmentSatisfaction": scaled("satisfaction_last"),
        "PerformanceRating": scaled("performance_overall"),
        "YearsAtCompany": None if tenure is None else tenure / 365,
        "YearsSinceLastPromotion": _number(r.get("years_since_promotion")),
        "DistanceFromHome": _number(r.get("commute_km")),
        "JobLevel": _number(r.get("level")),
        "Department": r.get("department"),
    }
    out.update({k: v for k, v in pairs.items() if v is not None})
    out.update({k: v for k, v in r.items() if k[:1].isupper()})  # IBM names given directly
    return out


@dataclass
class Encoder:
    """Turns named columns into the model's matrix, imputing training medians.

    `logged` numeric columns enter as log(1 + x) (pay, distances, years: a step from 1 to 2
    years is not a step from 20 to 21); `levels` numeric columns also enter one column per
    level seen in training (a 1-4 rating whose effect is not a straight line). Both stay one
    feature in explanations, shown with the value as given.
    """

    numeric: list[str]
    categorical: dict[str, list[str]] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    layout: str = "company"  # or "ibm": how to read a live context
    logged: list[str] = field(default_factory=list)
    levels: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def fit(cls, columns: Mapping[str, np.ndarray], numeric: Sequence[str],
            categorical: Sequence[str] = (), layout: str = "company",
            logged: Sequence[str] = (), levels: Sequence[str] = ()) -> Encoder:
        medians = {}
        for name in numeric:
            values = np.asarray(columns[name], dtype=float)
            medians[name] = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
        vocab = {name: sorted({str(v) for v in columns[name] if v not in ("", None)})
                 for name in categorical}
        seen = {name: sorted({float(v) for v in np.asarray(columns[name], dtype=float)
                              if np.isfinite(v)})
                for name in levels if name in numeric}
        return cls(list(numeric), vocab, medians, layout,
                   [n for n in logged if n in numeric], seen)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def sources(self) -> list[str]:
        """The input feature behind each matrix column."""
        levels = getattr(self, "levels", {})  # artifacts saved before levels existed
        return [*self.numeric, *(n for n, vs in self.categorical.items() for _ in vs),
                *(n for n, vs in levels.items() for _ in vs)]

    def matrix(self, columns: Mapping[str, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(X, missing): missing[i, j] is True where feature j of row i was imputed."""
        feats = self.features
        X = np.zeros((n, len(self.sources)))
        missing = np.zeros((n, len(feats)), dtype=bool)
        for j, name in enumerate(self.numeric):
            col = columns.get(name)
            values = (np.full(n, np.nan) if col is None
                      else np.asarray(col, dtype=float).reshape(n))
            gap = ~np.isfinite(values)
            missing[:, j] = gap
            X[:, j] = np.where(gap, self.medians[name], values)
            if name in getattr(self, "logged", ()):
                X[:, j] = np.log1p(np.maximum(X[:, j], 0.0))
        at = len(self.numeric)
        for j, (name, vocab) in enumerate(self.categorical.items(), start=len(self.numeric)):
            col = columns.get(name)
            values = np.full(n, "", dtype=object) if col is None else np.asarray(col, object)
            known = np.zeros(n, dtype=bool)
            for k, level in enumerate(vocab):
                hit = values.astype(str) == level
                X[:, at + k] = hit
                known |= hit
            missing[:, j] = ~known
            at += len(vocab)
        for name, seen in getattr(self, "levels", {}).items():
            col = columns.get(name)
            values = (np.full(n, np.nan) if col is None
                      else np.asarray(col, dtype=float).reshape(n))
            for k, level in enumerate(seen):
                X[:, at + k] = values == level  # unknown or imputed: no level column set
            at += len(seen)
        return X, missing

    def records_to_columns(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        for name in self.numeric:
            columns[name] = np.array([_number(r.get(name)) if r.get(name) is not None
                                      else np.nan for r in rows], dtype=float)
        for name in self.categorical:
            columns[name] = np.array([str(r.get(name) or "") for r in rows], dtype=object)
        return columns

    def read_context(self, context: Mapping[str, Any]) -> dict[str, Any]:
        record = context_record(context)
        return _ibm_from_record(record) if self.layout == "ibm" else record


def write_ibm_layout(c: Company, path: Path) -> int:
    """The company in the IBM HR attrition layout, so `--data` can be tried without a file of
    one's own. 1-5 survey and review scores become 1-4; OverTime is a month of 20 h or more."""
    cols = company_columns(c)
    e = c.employees

    def four(x: np.ndarray) -> np.ndarray:
        return np.clip(np.round(1 + (x - 1) * 3 / 4), 1, 4).astype(int)

    table = {
        "EmployeeNumber": np.arange(1, len(c) + 1), "Age": e["age"].astype(int),
        "Attrition": np.where(c.left, "Yes", "No"), "Department": e["department"],
        "DistanceFromHome": np.round(e["commute_km"]).astype(int), "Gender": np.where(
            e["gender"] == "F", "Female", "Male"),
        "JobLevel": e["level"], "JobSatisfaction": four(cols["satisfaction_last"]),
        "MonthlyIncome": e["monthly_pay"].astype(int),
        "OverTime": np.where(cols["overtime_hours_28d"] >= 20, "Yes", "No"),
        "PerformanceRating": four(cols["performance_overall"]),
        "TrainingTimesLastYear": cols["training_completed_90d"].astype(int),
        "YearsAtCompany": (e["tenure_days"] // 365).astype(int),
        "YearsSinceLastPromotion": np.floor(e["years_since_promotion"]).astype(int),
        "EmployeeCount": np.ones(len(c), dtype=int), "StandardHours": np.full(len(c), 40),
    }
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(table)
        writer.writerows(zip(*table.values(), strict=True))
    return len(c)
