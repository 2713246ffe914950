"""A user's own attrition data, in the IBM HR Analytics attrition layout (one row per person,
`Attrition` Yes/No): read, checked line by line, and turned into training columns.

Identifier and constant columns are dropped, gender is kept out of the features (the fairness
report groups by it), and every problem names the file, line and column.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wendu.scorers.synth import age_band

IBM_NUMERIC = (
    "Age", "DailyRate", "DistanceFromHome", "Education", "EnvironmentSatisfaction",
    "HourlyRate", "JobInvolvement", "JobLevel", "JobSatisfaction", "MonthlyIncome",
    "MonthlyRate", "NumCompaniesWorked", "PercentSalaryHike", "PerformanceRating",
    "RelationshipSatisfaction", "StockOptionLevel", "TotalWorkingYears",
    "TrainingTimesLastYear", "WorkLifeBalance", "YearsAtCompany", "YearsInCurrentRole",
    "YearsSinceLastPromotion", "YearsWithCurrManager",
)
IBM_CATEGORICAL = ("BusinessTravel", "Department", "EducationField", "JobRole",
                   "MaritalStatus", "OverTime")
# Skewed amounts and spans, read as log(1 + x); small ordinal scales, read level by level too.
IBM_LOGGED = ("MonthlyIncome", "DailyRate", "HourlyRate", "MonthlyRate", "DistanceFromHome",
              "NumCompaniesWorked", "TotalWorkingYears", "YearsAtCompany", "YearsInCurrentRole",
              "YearsSinceLastPromotion", "YearsWithCurrManager")
IBM_LEVELS = ("Education", "EnvironmentSatisfaction", "JobInvolvement", "JobLevel",
              "JobSatisfaction", "RelationshipSatisfaction", "StockOptionLevel",
              "WorkLifeBalance")
# Identifiers and columns constant by construction say nothing about leaving.
IBM_DROPPED = ("EmployeeCount", "StandardHours", "Over18", "EmployeeNumber")
# Kept out of the features so the model cannot use it; the fairness report groups by it.
IBM_PROTECTED = ("Gender",)
YES, NO = {"yes", "1", "true", "y"}, {"no", "0", "false", "n"}


class DataError(ValueError):
    """A user's data file cannot be used: the message names the file, line and column."""


@dataclass
class TabularData:
    columns: dict[str, np.ndarray]
    target: np.ndarray
    numeric: list[str]
    categorical: list[str]
    notes: list[str]


def read_ibm_csv(path: Path) -> TabularData:
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if "Attrition" not in header:
        raise DataError(f"{path}: no 'Attrition' column (Yes/No); found: {', '.join(header)}")
    if len(rows) < 20:
        raise DataError(f"{path}: {len(rows)} data rows; at least 20 are needed to train")
    target = np.zeros(len(rows), dtype=int)
    for i, row in enumerate(rows):
        value = row.get("Attrition", "").lower()
        if value not in YES | NO:
            raise DataError(f"{path} line {i + 2}: Attrition must be Yes or No, "
                            f"got {row.get('Attrition')!r}")
        target[i] = value in YES
    notes = []
    known = {*IBM_NUMERIC, *IBM_CATEGORICAL, *IBM_DROPPED, *IBM_PROTECTED, "Attrition"}
    extra = [h for h in header if h not in known]
    if extra:
        notes.append(f"ignored columns not in the IBM layout: {', '.join(extra)}")
    missing = [h for h in (*IBM_NUMERIC, *IBM_CATEGORICAL) if h not in header]
    if missing:
        notes.append(f"missing IBM columns (trained without them): {', '.join(missing)}")
    dropped = [h for h in IBM_DROPPED if h in header]
    if dropped:
        notes.append(f"dropped identifier/constant columns: {', '.join(dropped)}")
    columns: dict[str, np.ndarray] = {}
    numeric, categorical = [], []
    for name in IBM_NUMERIC:
        if name not in header:
            continue
        values = np.full(len(rows), np.nan)
        for i, row in enumerate(rows):
            raw = row.get(name, "")
            if raw == "":
                continue
            try:
                values[i] = float(raw)
            except ValueError:
                raise DataError(f"{path} line {i + 2}: column {name} must be a number, "
                                f"got {raw!r}") from None
        columns[name] = values
        numeric.append(name)
    for name in IBM_CATEGORICAL:
        if name in header:
            columns[name] = np.array([row.get(name, "") for row in rows], dtype=object)
            categorical.append(name)
    for name in [*numeric, *categorical]:
        col = columns[name]
        distinct = {str(v) for v in col if not (isinstance(v, float) and math.isnan(v))}
        if len(distinct) <= 1:
            notes.append(f"dropped constant column: {name}")
            (numeric if name in numeric else categorical).remove(name)
    if not numeric and not categorical:
        raise DataError(f"{path}: no usable IBM feature columns besides Attrition")
    if "Gender" in header:
        columns["gender"] = np.array([row["Gender"] or "unknown" for row in rows], dtype=object)
    if "Age" in columns:
        columns["age_band"] = age_band(np.nan_to_num(columns["Age"], nan=35.0))
    if "Department" in columns:
        columns["department"] = columns["Department"]
    return TabularData(columns, target, numeric, categorical, notes)
