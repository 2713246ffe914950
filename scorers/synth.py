"""A synthetic company whose causes are known, so the models have something real to find.

`generate(employees, weeks, seed)` builds an org tree and W weeks of history ending at the
snapshot (the end of week W), then draws who leaves in the 26 weeks after it and who burns out
in the 8 weeks after it. Same seed, same company. Everything is numpy columns, so 10,000
people x 26 weeks take about a second.

Who people are: gender, birth year (age band), department, level 1-6 (older people sit higher),
pay band P<level> with pay drawn around the band median (`pay_ratio`, lognormal, sd 0.12),
work city and hometown (40 % work where they grew up), commute (gamma, mean ~12 km), tenure,
promotions (more with tenure), years since the last one, manager changes in the past year.
Teams of about 8 report to a team manager, managers to their department head.

Attendance, per week: overtime hours around the employee's own baseline, which sits around
their team's culture (Engineering and Sales teams run hotter). About one person in five is in a
*crunch* of 2-8 weeks ending at the snapshot: overtime x2-3.5, more late clock-outs (after
21:00) and weekend days, and less leave taken. Late clock-outs and weekend days follow the
week's overtime.

Satisfaction surveys every 4 weeks (1-5): a personal level raised by pay above the band median
and lowered by manager changes and by load beyond the employee's own baseline; one person in
seven is *disengaging* and drifts down 0.1 a week over the last 12 weeks. Two performance
reviews (five dimensions, overall = their mean), training completions (more for people with
low load), feedback items (ids and labels only: the text scorers own the texts).

Departure within 6 months (the attrition label), logit:
    -3.3
    + 0.035 * (overtime hours in the last 4 weeks - 16)      overtime
    + 0.9   * (3.5 - latent satisfaction now)                 low satisfaction
    + 2.5   * max(-satisfaction slope per survey, 0)          falling satisfaction
    + 4.0   * max(1 - pay_ratio, 0)                           pay below the band median
    + 0.25  * min(years since promotion, 6)                   no promotion
    + 0.45  * manager changes in the past year                manager changes
    + 0.03  * max(commute km - 15, 0)                         long commute
    + 0.8 if tenure < 1 year, + 0.4 if < 2 years              low tenure
    - 0.15  * training completions in the last 13 weeks
Burnout within 8 weeks (the burnout label), logit:
    -3.9
    + 0.03 * (overtime hours in the last 4 weeks - 16)        sustained load as such
    + 1.2  * (mean overtime of the last 4 weeks - own earlier mean) / (own earlier mean + 3)
    + 0.6  * (mean overtime of the last 4 weeks - team's) / (team's + 3)
    + 0.3  * weeks in a row (ending now) over 1.5x own baseline and 8 h
    + 0.06 * late clock-outs in the last 4 weeks
    + 0.2  * weekend days in the last 4 weeks
    + 0.4  * max(1 - leave days in the last 13 weeks, 0)      leave not taken
Gender and age enter none of these, so a fair model should flag groups at similar rates.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

AS_OF_YEAR = 2026
DEPARTMENTS = ("Engineering", "Sales", "Operations", "Finance", "HR", "Product")
DEPARTMENT_HEAT = np.array([1.5, 1.3, 1.0, 0.8, 0.6, 1.2])  # overtime culture multiplier
CITIES = ("Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan", "Nanjing", "Xi'an")
REVIEW_DIMENSIONS = ("delivery", "collaboration", "communication", "expertise", "ownership")
FEEDBACK_TOPICS = ("workload", "manager", "pay_benefits", "growth_training", "team",
                   "process_tools", "work_life_balance", "other")
SURVEY_EVERY = 4
TEAM_SIZE = 8
COURSES = 40


def age_band(age: np.ndarray) -> np.ndarray:
    return np.select([age < 30, age < 40, age < 50], ["<30", "30-39", "40-49"], "50+")


@dataclass
class Company:
    """Column tables; row i of every per-employee array is employee `ids[i]`."""

    seed: int
    weeks: int
    ids: np.ndarray
    employees: dict[str, np.ndarray]
    overtime: np.ndarray  # (N, W) hours per week
    late: np.ndarray  # (N, W) days with clock-out after 21:00
    weekend: np.ndarray  # (N, W) rest days worked
    leave: np.ndarray  # (N, W) leave days taken
    survey_weeks: np.ndarray  # (S,) week index of each survey
    satisfaction: np.ndarray  # (N, S)
    reviews: dict[str, np.ndarray]  # per dimension + "overall": (N, 2), the last column latest
    trainings: dict[str, np.ndarray]  # long table: employee (row index), week, course, rating
    feedback: dict[str, np.ndarray]  # long table: id, employee, week, sentiment, topic
    left: np.ndarray  # (N,) leaves within 26 weeks of the snapshot
    left_in_weeks: np.ndarray  # (N,) weeks after the snapshot, 0 for stayers
    burnout: np.ndarray  # (N,) burns out within 8 weeks
    drivers: dict[str, np.ndarray] = field(default_factory=dict)  # the true causes, for tests

    def __len__(self) -> int:
        return len(self.ids)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _org(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    dept = rng.choice(len(DEPARTMENTS), n, p=[0.35, 0.2, 0.2, 0.08, 0.05, 0.12])
    order = np.argsort(dept, kind="stable")
    dept = dept[order]  # people of a department sit together, so teams are contiguous
    age = np.clip(rng.normal(34, 8, n), 21, 62).round()
    level = np.clip(np.round((age - 21) / 8 + rng.normal(1.2, 0.9, n)), 1, 6).astype(int)
    team = np.zeros(n, dtype=int)
    manager = np.full(n, -1)
    next_team = 0
    for d in range(len(DEPARTMENTS)):
        members = np.flatnonzero(dept == d)
        if not len(members):
            continue
        head = members[0]
        level[head] = 6
        for start in range(0, len(members), TEAM_SIZE):
            chunk = members[start:start + TEAM_SIZE]
            lead = chunk[0]
            team[chunk] = next_team
            next_team += 1
            if lead != head:
                level[lead] = max(level[lead], 4)
                manager[lead] = head
            manager[chunk[1:]] = lead
    return {"department": dept, "age": age, "level": level, "team": team, "manager": manager}


def generate(employees: int = 1000, weeks: int = 26, seed: int = 7) -> Company:
    if employees < 1:
        raise ValueError("employees: must be at least 1")
    if weeks < 8:
        raise ValueError("weeks: must be at least 8 (two survey rounds and a 4-week window)")
    rng = np.random.default_rng(seed)
    n, w = employees, weeks
    org = _org(rng, n)
    dept, age, level, team = org["department"], org["age"], org["level"], org["team"]
    gender = np.where(rng.random(n) < 0.45, "F", "M")
    pay_ratio = np.exp(rng.normal(0, 0.12, n))
    band_median = 8000 * 1.35 ** level
    work_city = rng.choice(len(CITIES), n, p=[0.3, 0.2, 0.15, 0.12, 0.08, 0.06, 0.05, 0.04])
    hometown = np.where(rng.random(n) < 0.4, work_city, rng.integers(0, len(CITIES), n))
    commute = np.round(rng.gamma(2.0, 6.0, n), 1)
    tenure_days = np.minimum(rng.exponential(3.0, n) * 365 + 14, (age - 21) * 365 + 30)
    tenure_days = tenure_days.astype(int)
    tenure_years = tenure_days / 365.0
    promotions = rng.poisson(tenure_years * 0.3)
    since_promotion = np.where(promotions > 0, rng.random(n) * np.minimum(tenure_years, 3),
                               tenure_years).round(2)
    manager_changes = rng.poisson(0.3, n) + (rng.random(n) < 0.05)

    # Attendance: team culture -> own baseline -> weekly hours, plus crunches at the end.
    n_teams = team.max() + 1
    team_dept = dept[np.searchsorted(team, np.arange(n_teams))]  # teams are contiguous
    team_heat = rng.gamma(4.0, 1.0, n_teams) * DEPARTMENT_HEAT[team_dept]
    own_base = team_heat[team] * np.exp(rng.normal(0, 0.4, n))
    load = np.repeat(own_base[:, None], w, axis=1)
    crunch_len = np.where(rng.random(n) < 0.2, rng.integers(2, 9, n), 0)
    in_crunch = np.arange(w)[None, :] >= (w - crunch_len)[:, None]
    load = np.where(in_crunch, load * rng.uniform(2.0, 3.5, n)[:, None] + 4, load)
    overtime = np.round(rng.gamma(3.0, load / 3.0), 1)
    late = rng.binomial(5, np.clip(0.03 + overtime / 30, 0, 0.95))
    weekend = rng.binomial(2, np.clip(0.02 + overtime / 50, 0, 0.9))
    leave = rng.poisson(np.where(in_crunch, 0.05, 0.3), (n, w))

    # Satisfaction: personal level, pay, manager churn, load beyond own baseline, disengagement.
    survey_weeks = np.arange(SURVEY_EVERY - 1, w, SURVEY_EVERY)
    level_sat = (3.7 + 2.0 * (pay_ratio - 1) - 0.2 * manager_changes + rng.normal(0, 0.45, n))
    disengaging = rng.random(n) < 1 / 7
    drift = np.where(disengaging[:, None],
                     -0.1 * np.clip(survey_weeks[None, :] - (w - 12), 0, None), 0.0)
    recent = np.stack([overtime[:, max(0, s - 3):s + 1].mean(axis=1) for s in survey_weeks], 1)
    strain = -0.04 * np.clip(recent - own_base[:, None], 0, None)
    latent = level_sat[:, None] + drift + strain
    satisfaction = np.clip(np.round(latent + rng.normal(0, 0.3, latent.shape), 1), 1, 5)
    sat_now = latent[:, -1]
    sat_slope = np.polyfit(np.arange(min(5, len(survey_weeks))), latent[:, -5:].T, 1)[0]

    person = rng.normal(0, 0.4, n)
    reviews = {d: np.clip(np.round(3.3 + person[:, None] + rng.normal(0, 0.5, (n, 2)), 1), 1, 5)
               for d in REVIEW_DIMENSIONS}
    reviews["overall"] = np.round(np.mean([reviews[d] for d in REVIEW_DIMENSIONS], axis=0), 2)

    rate = np.clip(0.12 - overtime.mean(axis=1) / 200, 0.01, None)  # per week
    counts = rng.poisson(rate * w)
    t_emp = np.repeat(np.arange(n), counts)
    trainings = {"employee": t_emp, "week": rng.integers(0, w, len(t_emp)),
                 "course": rng.integers(1, COURSES + 1, len(t_emp)),
                 "rating": rng.integers(2, 6, len(t_emp))}
    trained_13w = np.bincount(t_emp[trainings["week"] >= w - 13], minlength=n)

    ot_4w = overtime[:, -4:].sum(axis=1)
    z_leave = (-3.3 + 0.035 * (ot_4w - 16) + 0.9 * (3.5 - sat_now)
               + 2.5 * np.clip(-sat_slope, 0, None) + 4.0 * np.clip(1 - pay_ratio, 0, None)
               + 0.25 * np.minimum(since_promotion, 6) + 0.45 * manager_changes
               + 0.03 * np.clip(commute - 15, 0, None)
               + np.select([tenure_years < 1, tenure_years < 2], [0.8, 0.4], 0.0)
               - 0.15 * trained_13w)
    left = rng.random(n) < _sigmoid(z_leave)
    left_in_weeks = np.where(left, rng.integers(1, 27, n), 0)

    earlier = overtime[:, :-4].mean(axis=1)
    now = overtime[:, -4:].mean(axis=1)
    team_now = np.bincount(team, now) / np.bincount(team)
    over = (overtime > 1.5 * own_base[:, None]) & (overtime > 8)
    streak = np.argmin(np.concatenate([over[:, ::-1], np.zeros((n, 1), bool)], 1), axis=1)
    z_burn = (-3.9 + 0.03 * (ot_4w - 16) + 1.2 * (now - earlier) / (earlier + 3)
              + 0.6 * (now - team_now[team]) / (team_now[team] + 3) + 0.3 * streak
              + 0.06 * late[:, -4:].sum(1) + 0.2 * weekend[:, -4:].sum(1)
              + 0.4 * np.clip(1 - leave[:, -13:].sum(1), 0, None))
    burnout = rng.random(n) < _sigmoid(z_burn)

    f_counts = rng.poisson(0.4, n)
    f_emp = np.repeat(np.arange(n), f_counts)
    negative = rng.random(len(f_emp)) < _sigmoid(2.0 * (3.2 - sat_now[f_emp]))
    topic = np.where(now[f_emp] > 10, 0, np.where(pay_ratio[f_emp] < 0.9, 2,
                     rng.integers(0, len(FEEDBACK_TOPICS), len(f_emp))))
    feedback = {"id": np.array([f"F{i:07d}" for i in range(len(f_emp))]), "employee": f_emp,
                "week": rng.integers(0, w, len(f_emp)),
                "sentiment": np.where(negative, "negative", rng.choice(["neutral", "positive"],
                                                                        len(f_emp))),
                "topic": np.array(FEEDBACK_TOPICS)[topic]}

    ids = np.array([f"S{i + 1:06d}" for i in range(n)])
    employees = {
        "gender": gender, "birth_year": (AS_OF_YEAR - age).astype(int), "age": age,
        "age_band": age_band(age), "department": np.array(DEPARTMENTS)[dept], "level": level,
        "pay_band": np.array([f"P{v}" for v in level]), "monthly_pay": np.round(
            band_median * pay_ratio), "band_median": np.round(band_median), "pay_ratio": pay_ratio,
        "work_city": np.array(CITIES)[work_city], "hometown_city": np.array(CITIES)[hometown],
        "commute_km": commute, "tenure_days": tenure_days, "promotions": promotions,
        "years_since_promotion": since_promotion, "manager_changes_1y": manager_changes,
        "manager_id": np.where(org["manager"] >= 0, ids[np.maximum(org["manager"], 0)], ""),
        "team": team,
    }
    return Company(seed, w, ids, employees, overtime, late, weekend, leave, survey_weeks,
                   satisfaction, reviews, trainings, feedback, left, left_in_weeks, burnout,
                   {"attrition_logit": z_leave, "burnout_logit": z_burn,
                    "crunch_weeks": crunch_len, "disengaging": disengaging})


def write(company: Company, out: Path) -> dict[str, int]:
    """The company as CSV files in `out`, one per table; returns rows written per file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids, e = company.ids, company.employees
    n, w = len(company), company.weeks
    emp_cols = ["gender", "birth_year", "age_band", "department", "level", "pay_band",
                "monthly_pay", "band_median", "work_city", "hometown_city", "commute_km",
                "tenure_days", "promotions", "years_since_promotion", "manager_changes_1y",
                "manager_id"]
    tables = {
        "employees.csv": (["employee_id", *emp_cols],
                          zip(ids, *(e[c] for c in emp_cols), strict=True)),
        "attendance.csv": (["employee_id", "week", "overtime_hours", "late_clockouts",
                            "weekend_days", "leave_days"],
                           ((ids[i], k, company.overtime[i, k], company.late[i, k],
                             company.weekend[i, k], company.leave[i, k])
                            for i in range(n) for k in range(w))),
        "surveys.csv": (["employee_id", "week", "satisfaction"],
                        ((ids[i], s, company.satisfaction[i, j]) for i in range(n)
                         for j, s in enumerate(company.survey_weeks))),
        "reviews.csv": (["employee_id", "period", *REVIEW_DIMENSIONS, "overall"],
                        ((ids[i], p, *(company.reviews[d][i, p] for d in REVIEW_DIMENSIONS),
                          company.reviews["overall"][i, p]) for i in range(n) for p in (0, 1))),
        "trainings.csv": (["employee_id", "week", "course_id", "rating"],
                          ((ids[i], k, f"C{c:03d}", r) for i, k, c, r in zip(
                              *company.trainings.values(), strict=True))),
        "feedback.csv": (["feedback_id", "employee_id", "week", "sentiment", "topic"],
                         ((f, ids[i], k, s, t) for f, i, k, s, t in zip(
                             *company.feedback.values(), strict=True))),
        "outcomes.csv": (["employee_id", "left_within_26w", "left_in_weeks",
                          "burnout_within_8w"],
                         zip(ids, company.left.astype(int), company.left_in_weeks,
                             company.burnout.astype(int), strict=True)),
    }
    written = {}
    for name, (header, rows) in tables.items():
        with (out / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
        written[name] = count
    return written
