"""The SCORE activity's additions, on SQLite and PostgreSQL: recent feedback read from the
store without quoting it back, the latest profile for scorers that need it, and
`profile.scores` kept across later events."""

from __future__ import annotations

import json

from temporalio.testing import ActivityEnvironment

from wendu.activities.outcomes import ScoreActivities
from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.scorers.registry import ScorerRegistry
from wendu.store.models import Profile
from wendu.workflows.io import ScoreInput

TEXT = "最近加班太多，工作量太大，每天都做不完"


def _event(eid: str, etype: str, at: str, **data) -> dict:
    return {"id": eid, "type": etype, "employee_id": "E1", "occurred_at": f"{at}+08:00",
            "data": data}


def _post(factory, *events) -> None:
    with factory.begin() as session:
        ingest(session, list(events), RuleIndex([]))


def _facts(factory) -> dict:
    with factory() as session:
        return dict(session.get(Profile, "E1").facts)


def _input(scorer: str, step: str, **args) -> ScoreInput:
    return ScoreInput(workflow_id="rule/x/E1", step_id=step, scorer=scorer, employee_id="E1",
                      context={"event": {"id": "sv-1", "type": "survey.response"},
                               "profile": {"last_event_at": "2026-11-20T10:00:00+08:00",
                                           "training_completed_total": 0}},
                      args=args)


async def test_recent_feedback_is_scored_from_the_store_and_not_quoted(session_factory, tmp_path):
    _post(session_factory,
          _event("h", "employee.hired", "2026-01-05T09:00:00", name="张伟", hired_on="2026-01-05"),
          _event("old", "feedback.submitted", "2026-06-01T10:00:00", text="团队氛围很好"),
          _event("fb", "feedback.submitted", "2026-11-12T10:00:00", text=TEXT))
    activities = ScoreActivities(session_factory, ScorerRegistry.default(tmp_path))
    env = ActivityEnvironment()

    topics = await env.run(activities.score, _input("topics", "steps[0]", feedback_days=30))
    assert topics.label == "workload"
    assert "phrases" not in json.dumps(topics.factors)
    mood = await env.run(activities.score, _input("sentiment", "steps[1]", feedback_days=30))
    assert mood.label == "negative"
    shown = json.dumps([topics.model_dump(), mood.model_dump()], ensure_ascii=False)
    for piece in TEXT.split("，"):
        assert piece not in shown

    scores = _facts(session_factory)["scores"]
    assert scores["topics"]["label"] == "workload" and scores["sentiment"]["label"] == "negative"
    # A later event folds the profile again: the scores stay.
    _post(session_factory, _event("sv", "survey.response", "2026-11-21T10:00:00",
                                  survey_id="p1", satisfaction=3.0))
    assert _facts(session_factory)["scores"]["topics"]["label"] == "workload"


async def test_no_feedback_in_the_window_is_said_not_guessed(session_factory, tmp_path):
    _post(session_factory,
          _event("h", "employee.hired", "2026-01-05T09:00:00", name="张伟", hired_on="2026-01-05"),
          _event("old", "feedback.submitted", "2026-06-01T10:00:00", text=TEXT))
    activities = ScoreActivities(session_factory, ScorerRegistry.default(tmp_path))
    result = await ActivityEnvironment().run(
        activities.score, _input("sentiment", "steps[0]", feedback_days=30))
    assert (result.value, result.label, result.factors) == (0.0, "no_feedback", [])


async def test_training_progress_reads_the_profile_of_now(session_factory, tmp_path):
    _post(session_factory,
          _event("h", "employee.hired", "2026-01-05T09:00:00", name="张伟", hired_on="2026-01-05"),
          *(_event(f"tc{i}", "training.completed", f"2026-11-1{i}T10:00:00", course_id=f"C10{i}")
            for i in range(2)))
    activities = ScoreActivities(session_factory, ScorerRegistry.default(tmp_path))
    # The firing's context says 0 courses; the store knows of 2 since.
    result = await ActivityEnvironment().run(
        activities.score, _input("training_progress", "steps[0]", target=4))
    assert (result.value, result.label) == (0.5, "started")
    assert _facts(session_factory)["scores"]["training_progress"]["value"] == 0.5
