"""course_recommendation: the weakest dimension first, then what similar colleagues rated well."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wendu.scorers import artifacts
from wendu.scorers.courses import CourseRecommender, load_catalog, role_of
from wendu.scorers.trainers import TrainOptions, trainer
from wendu.store.db import make_engine, make_session_factory, transaction
from wendu.store.models import Employee, Event, Profile

REVIEW = {"delivery": 4.0, "communication": 2.0, "teamwork": 4.0}


def context(scores, weakest, title="Software Engineer", emp="E1"):
    return {"profile": {"performance_last": scores, "performance_weakest": weakest},
            "employee": {"id": emp, "title": title}}


def test_catalog_is_complete_and_bilingual():
    catalog = load_catalog()
    assert len(catalog) >= 30 and len({c.id for c in catalog}) == len(catalog)
    assert all(c.title["zh"] and c.title["en"] and c.dimensions and c.reward > 0
               for c in catalog)


@pytest.mark.parametrize("weakest", ["communication", "delivery", "teamwork"])
def test_best_course_strengthens_the_weakest_dimension(tmp_path, weakest):
    scores = {d: 4.5 for d in REVIEW} | {weakest: 2.0}
    result = CourseRecommender(tmp_path).score(context(scores, weakest))
    best = {c.id: c for c in load_catalog()}[result["label"]]
    assert weakest in best.dimensions
    assert result["model_version"] == "content-only"
    assert result["factors"][0]["name"] == result["label"]
    assert any(weakest in r for r in result["factors"][0]["reasons"])
    values = [f["value"] for f in result["factors"]]
    assert values == sorted(values, reverse=True)


def test_role_decides_between_courses_for_the_same_dimension(tmp_path):
    scores = {"leadership": 2.0, "delivery": 4.5}
    manager = CourseRecommender(tmp_path).score(context(scores, "leadership", "研发经理"))
    engineer = CourseRecommender(tmp_path).score(context(scores, "leadership", "后端开发工程师"))
    courses = {c.id: c for c in load_catalog()}
    assert "manager" in courses[manager["label"]].roles
    assert "manager" not in courses[engineer["label"]].roles
    assert role_of("Engineering Manager") == "manager" and role_of("数据分析师") == "analyst"


def _seed_store(url: str) -> None:
    engine = make_engine(url)
    at = datetime(2026, 11, 2, 10, tzinfo=UTC)
    # Engineers weak in communication rated C102 highly and C101 poorly; E1 took C123 already.
    ratings = [("E2", "C101", 1.0), ("E2", "C102", 5.0), ("E3", "C101", 2.0),
               ("E3", "C102", 5.0), ("E4", "C102", 4.0), ("E1", "C123", 4.0)]
    with transaction(make_session_factory(engine)) as session:
        for emp in ("E1", "E2", "E3", "E4"):
            session.add(Employee(id=emp, name=emp, title="Software Engineer"))
            session.add(Profile(employee_id=emp, facts={"performance_weakest": "communication"}))
        for n, (emp, course, rating) in enumerate(ratings):
            session.add(Event(id=f"t{n}", type="training.completed", employee_id=emp,
                              occurred_at=at, data={"course_id": course, "rating": rating}))
    engine.dispose()


def test_ratings_of_similar_colleagues_from_the_store_reorder_courses(db_url, tmp_path,
                                                                     monkeypatch):
    ctx = context(REVIEW, "communication")
    assert CourseRecommender(tmp_path).score(ctx)["label"] == "C101"  # catalog order alone

    _seed_store(db_url)
    monkeypatch.setenv("WENDU_DATABASE_URL", db_url)
    art = trainer("course_recommendation")(TrainOptions(data_dir=tmp_path))
    assert art.card["metrics"]["completions"] == 6
    assert artifacts.active_version(tmp_path, "course_recommendation") == art.version

    result = CourseRecommender(tmp_path).score(ctx)
    assert result["model_version"] == art.version
    ranked = [f["name"] for f in result["factors"]]
    assert ranked[0] == "C102"
    assert "C123" not in ranked  # already completed
    assert ranked.index("C102") < ranked.index("C101") if "C101" in ranked else True
    assert any("similar colleague" in r for r in result["factors"][0]["reasons"])


def test_a_reason_quotes_a_review_score_only_where_there_is_one():
    """The rule names the area (from feedback topics) for someone never reviewed: the reason
    says so instead of inventing a 1.0/5."""
    from wendu.scorers.courses import CourseRecommender

    recommender = CourseRecommender(completions=[])
    unreviewed = recommender.score({"profile": {}, "employee": {"id": "E9"},
                                    "args": {"dimension": "time_management"}})
    reasons = [r for f in unreviewed["factors"] for r in f["reasons"]]
    assert "strengthens time_management (the area asked for; no review score)" in reasons
    assert not any("review: 1.0/5" in r for r in reasons)
    reviewed = recommender.score({"profile": {"performance_last": {"delivery": 2.5}},
                                  "employee": {"id": "E9"}})
    assert "strengthens delivery (review: 2.5/5)" in reviewed["factors"][0]["reasons"]
