"""course_recommendation: courses for an employee's weakest review dimensions and role.

Two signals, blended: the catalog (courses.yaml: which dimensions a course strengthens, which
roles it is for) against the latest review scores, and what similar colleagues (same weakest
dimension, same role) completed and rated. The second comes from `training.completed` events
gathered by `wendu models train course_recommendation` into an artifact; without one the
scorer is content-based only and says so. Ratings are shrunk toward neutral, so one
enthusiastic colleague cannot outrank the catalog.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wendu.scorers import artifacts
from wendu.scorers.trainers import TrainOptions

NAME = "course_recommendation"
CATALOG = Path(__file__).with_name("courses.yaml")
CF_WEIGHT = 0.5
SHRINK = 2.0  # ratings from this many neutral colleagues are assumed before any real one
TOP = 5
# Title words -> role; titles are free text in both languages.
ROLE_WORDS = {
    "manager": ("manager", "lead", "head", "director", "经理", "主管", "总监", "负责人"),
    "engineer": ("engineer", "developer", "programmer", "工程师", "开发"),
    "sales": ("sales", "account", "销售", "客户经理"),
    "hr": ("hr", "recruit", "people", "人力", "招聘", "人事"),
    "product": ("product", "产品"),
    "designer": ("design", "设计"),
    "analyst": ("analyst", "data", "分析"),
}


@dataclass(frozen=True)
class Course:
    id: str
    title: dict[str, str]
    skills: tuple[str, ...]
    dimensions: tuple[str, ...]
    roles: tuple[str, ...]
    reward: int
    duration_hours: float


def load_catalog(path: Path = CATALOG) -> list[Course]:
    raw = yaml.safe_load(path.read_text("utf-8")) or {}
    courses = []
    for i, c in enumerate(raw.get("courses") or []):
        try:
            courses.append(Course(str(c["id"]), dict(c["title"]), tuple(c.get("skills") or ()),
                                  tuple(c["dimensions"]), tuple(c.get("roles") or ()),
                                  int(c.get("reward", 0)), float(c.get("duration_hours", 0))))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: courses[{i}]: missing or bad field {exc}") from None
    return courses


def role_of(title: str | None) -> str | None:
    text = (title or "").lower()
    # Manager first: "engineering manager" manages.
    return next((role for role, words in ROLE_WORDS.items() if any(w in text for w in words)),
                None)


def weaknesses(profile: dict[str, Any]) -> dict[str, float]:
    """Dimension -> how weak, 0 (5/5) to 1 (1/5), from the latest review."""
    scores = profile.get("performance_last") or {}
    out = {d: min(max((5.0 - float(s)) / 4.0, 0.0), 1.0) for d, s in scores.items()
           if isinstance(s, int | float)}
    weakest = profile.get("performance_weakest")
    if weakest and weakest not in out:
        out[weakest] = 1.0
    return out


def completions_from_store(session_factory: Any) -> list[dict[str, Any]]:
    """One row per `training.completed` event: who (weakest dimension, role), course, rating."""
    from sqlalchemy import select

    from wendu.store.models import Employee, Event, Profile

    with session_factory() as session:
        events = session.execute(select(Event.employee_id, Event.data)
                                 .where(Event.type == "training.completed")).all()
        ids = {e for e, _ in events}
        facts = dict(session.execute(select(Profile.employee_id, Profile.facts)
                                     .where(Profile.employee_id.in_(ids))).all()) if ids else {}
        titles = dict(session.execute(select(Employee.id, Employee.title)
                                      .where(Employee.id.in_(ids))).all()) if ids else {}
    rows = []
    for emp, data in events:
        rating = (data or {}).get("rating")
        rows.append({"employee_id": emp, "course_id": (data or {}).get("course_id"),
                     "rating": float(rating) if rating is not None else None,
                     "weakest": (facts.get(emp) or {}).get("performance_weakest"),
                     "role": role_of(titles.get(emp))})
    return rows


class CourseRecommender:
    name = NAME

    def __init__(self, data_dir: Path | None = None, catalog: list[Course] | None = None,
                 completions: list[dict[str, Any]] | None = None) -> None:
        self._data_dir = data_dir
        self.catalog = catalog or load_catalog()
        self._completions = completions
        self._version = "content-only" if completions is None else "given-completions"
        self._lock = threading.Lock()

    def _rows(self) -> list[dict[str, Any]]:
        if self._completions is None:
            with self._lock:
                if self._completions is None:
                    self._completions = []
                    data_dir = self._data_dir
                    if data_dir is None:
                        from wendu.settings import Settings

                        data_dir = Settings().data_dir
                    try:
                        art = artifacts.load(data_dir, NAME)
                        self._completions, self._version = art.model["completions"], art.version
                    except artifacts.ArtifactError:
                        pass  # content-based only until completions are trained in
        return self._completions

    @property
    def model_version(self) -> str:
        self._rows()
        return self._version

    def label(self, value: float) -> str:
        return ""  # the course is in the recorded factors

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        profile = context.get("profile") or {}
        employee = context.get("employee") or {}
        weak = weaknesses(profile)
        # The review's own scores: a reason quotes one only where the review gave it.
        reviewed = {d: float(v) for d, v in (profile.get("performance_last") or {}).items()
                    if isinstance(v, int | float)}
        role = role_of(employee.get("title"))
        weakest = profile.get("performance_weakest") or (max(weak, key=weak.get) if weak else None)
        # `with: {dimension: ...}`: the rule names the area (e.g. from feedback topics).
        focus = (context.get("args") or {}).get("dimension")
        if isinstance(focus, str) and focus:
            weak, weakest = {**weak, focus: 1.0}, focus
        rows = self._rows()
        me = employee.get("id") or profile.get("employee_id")
        done = {r["course_id"] for r in rows if r["employee_id"] == me}
        ranked = []
        for course in self.catalog:
            if course.id in done:
                continue
            total, reasons = self._content(course, weak, role, reviewed)
            cf, n, mean = self._similar(course.id, rows, weakest, role, me)
            if n:
                total += CF_WEIGHT * cf
                reasons.append(f"rated {mean:.1f}/5 by {n} similar colleague(s)")
            ranked.append((round(total, 4), course, reasons))
        ranked.sort(key=lambda r: (-r[0], r[1].id))
        factors = [{"name": c.id, "value": s, "contribution": s,
                    "direction": "increases", "title": c.title, "reasons": reasons,
                    "reward": c.reward, "duration_hours": c.duration_hours}
                   for s, c, reasons in ranked[:TOP]]
        best = ranked[0] if ranked else (0.0, None, [])
        return {"value": round(min(max(best[0], 0.0), 1.0), 4),
                "label": best[1].id if best[1] else "",
                "factors": factors, "model_version": self.model_version}

    def _content(self, course: Course, weak: dict[str, float], role: str | None,
                 reviewed: dict[str, float] | None = None) -> tuple[float, list[str]]:
        hits = [(d, weak[d]) for d in course.dimensions if weak.get(d)]
        # sqrt: a course spread over many dimensions helps each one less.
        total = sum(w for _, w in hits) / math.sqrt(len(course.dimensions))
        reviewed = reviewed or {}
        reasons = [f"strengthens {d} (review: {reviewed[d]:.1f}/5)" if d in reviewed
                   else f"strengthens {d} (the area asked for; no review score)"
                   for d, _ in sorted(hits, key=lambda h: -h[1])]
        if course.roles:
            if role in course.roles:
                total += 0.2
                reasons.append(f"written for the {role} role")
            else:
                total -= 0.3
        return total, reasons

    @staticmethod
    def _similar(course_id: str, rows: list[dict[str, Any]], weakest: str | None,
                 role: str | None, me: str | None) -> tuple[float, int, float]:
        num = den = rated = 0.0
        n = 0
        for r in rows:
            if r["course_id"] != course_id or r["rating"] is None or r["employee_id"] == me:
                continue
            sim = 0.5 * (weakest is not None and r.get("weakest") == weakest) + \
                0.5 * (role is not None and r.get("role") == role)
            if sim:
                num += sim * (r["rating"] - 3.0) / 2.0
                den += sim
                rated += r["rating"]
                n += 1
        return (num / (den + SHRINK), n, rated / n) if n else (0.0, 0, 0.0)


def train(opts: TrainOptions) -> artifacts.Artifact:
    """Gather completions and ratings from the store into a versioned artifact."""
    from sqlalchemy import inspect

    from wendu.settings import Settings
    from wendu.store.db import make_engine, make_session_factory

    opts.progress("reading training.completed events", 0.1)
    engine = make_engine(Settings(data_dir=opts.data_dir).sqlalchemy_url)
    try:
        if inspect(engine).has_table("events"):
            rows = completions_from_store(make_session_factory(engine))
        else:  # a data dir Wendu has not run in yet: the catalog alone ranks the courses
            opts.progress("no Wendu database yet: no completions to learn from", 0.5)
            rows = []
    finally:
        engine.dispose()
    rated = [r for r in rows if r["rating"] is not None]
    card = {
        "task": "course recommendation",
        "features": ["review dimension weaknesses", "role from title",
                     "ratings by colleagues with the same weakest dimension or role"],
        "training_data": f"{len(rows)} training.completed events ({len(rated)} rated)",
        "training_data_hash": artifacts.data_hash(
            *(f"{r['employee_id']}\t{r['course_id']}\t{r['rating']}\n" for r in rows)),
        "metrics": {"completions": len(rows), "rated": len(rated),
                    "courses_in_catalog": len(load_catalog())},
        "intended_use": "Suggest courses to an employee and their manager; a suggestion, "
                        "never a requirement or an input to reviews.",
        "limits": "Collaborative signal needs rated completions; courses nobody took are "
                  "ranked by the catalog alone. Review scores are a manager's view.",
    }
    opts.progress("saving", 0.9)
    art = artifacts.save(opts.data_dir, NAME, {"completions": rows}, card)
    opts.progress("done", 1.0)
    return art
