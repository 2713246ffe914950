"""A CSV in the IBM HR Analytics attrition layout with a known signal, for the tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

# WorkLifeBalance is left out on purpose (a missing column); BadgeColor is not IBM (an extra).
COLUMNS = [
    "Age", "Attrition", "BusinessTravel", "DailyRate", "Department", "DistanceFromHome",
    "Education", "EducationField", "EmployeeCount", "EmployeeNumber", "EnvironmentSatisfaction",
    "Gender", "HourlyRate", "JobInvolvement", "JobLevel", "JobRole", "JobSatisfaction",
    "MaritalStatus", "MonthlyIncome", "MonthlyRate", "NumCompaniesWorked", "Over18", "OverTime",
    "PercentSalaryHike", "PerformanceRating", "RelationshipSatisfaction", "StandardHours",
    "StockOptionLevel", "TotalWorkingYears", "TrainingTimesLastYear", "YearsAtCompany",
    "YearsInCurrentRole", "YearsSinceLastPromotion", "YearsWithCurrManager", "BadgeColor",
]


def write_ibm_csv(path: Path, rows: int = 900, seed: int = 3, leak: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 60, rows)
    level = np.clip((age - 18) // 9 + rng.integers(0, 2, rows), 1, 5)
    income = np.round(2000 + 3000 * level + rng.normal(0, 900, rows))
    overtime = rng.random(rows) < 0.28
    job_sat = rng.integers(1, 5, rows)
    env_sat = rng.integers(1, 5, rows)
    years = np.minimum(rng.exponential(6, rows).round(), age - 18)
    since_promo = np.minimum(rng.integers(0, 8, rows), years)
    distance = rng.integers(1, 30, rows)
    dept = rng.choice(["Research & Development", "Sales", "Human Resources"], rows,
                      p=[0.65, 0.3, 0.05])
    z = (-2.4 + 1.5 * overtime - 0.45 * (job_sat - 2.5) - 0.35 * (env_sat - 2.5)
         - 0.00015 * (income - 8000) - 0.08 * (years - 6) + 0.03 * (distance - 10))
    left = rng.random(rows) < 1 / (1 + np.exp(-z))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i in range(rows):
            w.writerow([
                age[i], "Yes" if left[i] else "No", rng.choice(["Travel_Rarely", "Non-Travel"]),
                rng.integers(100, 1500), dept[i], distance[i], rng.integers(1, 6),
                rng.choice(["Life Sciences", "Medical", "Marketing"]), 1, 1000 + i, env_sat[i],
                rng.choice(["Female", "Male"]), rng.integers(30, 100), rng.integers(1, 5),
                level[i], rng.choice(["Sales Executive", "Research Scientist"]), job_sat[i],
                rng.choice(["Single", "Married"]), income[i], rng.integers(2000, 27000),
                rng.integers(0, 9), "Y", "Yes" if overtime[i] else "No", rng.integers(11, 25),
                rng.integers(3, 5), rng.integers(1, 5), 80, rng.integers(0, 4), years[i] + 2,
                rng.integers(0, 7), years[i], min(years[i], 4),
                since_promo[i], (100 if left[i] else 0) if leak else min(years[i], 3),
                rng.choice(["red", "blue"]),
            ])
    return path
