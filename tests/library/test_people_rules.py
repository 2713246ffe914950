"""Reviews (training to-do, scorecard), the weekly attrition scan and new-hire check-ins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from wendu.scorers.courses import load_catalog
from wendu.store.models import Outcome, Profile
from wendu.workflows.io import ScanInput
from wendu.workflows.scan_workflow import ScanWorkflow

SCORES = {"customer_focus": 4.0, "delivery": 3.0, "teamwork": 4.5, "new_product_share": 1.5}


async def test_a_weak_review_dimension_gives_the_employee_a_course_to_do_with_reward(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "E1")))
    outcomes = await world.post(world.event("rv-1", "performance.review", "E1",
                                            "2026-11-20T10:00:00", period="2026H2",
                                            scores={"communication": 2.0, "delivery": 4.0}))
    fired = {f.rule_id: f.workflow_id for f in outcomes[0].fired}
    assert set(fired) == {"review-training", "performance-scorecard"}
    await world.finished(fired["review-training"])
    task, = world.tasks("E1")
    todo = next(n for n in world.notes("E1") if n.template == "review_training_todo")
    communication = [c for c in load_catalog() if "communication" in c.dimensions]
    assert any(c.title["zh"] in task.title for c in communication)
    first = next(c for c in communication if c.title["zh"] in task.title)
    assert f"{first.reward} 学习积分" in todo.body and "「沟通」" in todo.subject
    assert round((task.due_at - task.created_at) / timedelta(days=1)) == 30
    # Taking the course ticks the to-do off.
    await world.post(world.event("tc-rv", "training.completed", "E1", "2026-11-28T10:00:00",
                                 course_id=first.id, rating=5.0))
    done = await world.until(lambda: [t for t in world.tasks("E1") if t.status == "completed"],
                             "the to-do to complete itself")
    assert done[0].outcome_comment == "training.completed tc-rv"


async def test_a_review_without_a_weak_dimension_adds_no_to_do(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1")),
                     world.hire("E6", manager_id="M1", name="林可"))
    outcomes = await world.post(world.event("rv-6", "performance.review", "E6",
                                            "2026-11-20T10:00:00", period="2026H2",
                                            scores={"delivery": 4.0, "teamwork": 3.5}))
    assert [f.rule_id for f in outcomes[0].fired] == ["performance-scorecard"]


async def test_the_scorecard_weighs_by_stage_and_lands_in_the_profile(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "E2")),
                     world.hire("E7", manager_id="M1", name="老王", hired_on="2016-05-01"))
    await world.post(world.event("tc-e2", "training.completed", "E2", "2026-11-10T10:00:00",
                                 course_id="C101"))
    reviews = [world.event(f"rv-{e}", "performance.review", e, "2026-11-20T10:00:00",
                           period="2026H2", scores=SCORES) for e in ("E2", "E7")]
    outcomes = await world.post(*reviews)
    for o in outcomes:
        for f in o.fired:
            if f.rule_id == "performance-scorecard":
                await world.finished(f.workflow_id)
    with world.factory() as session:
        cards = {e: session.get(Profile, e).facts["scores"]["scorecard"] for e in ("E2", "E7")}
        metrics = dict(session.execute(select(Outcome.employee_id, Outcome.value)
                                       .where(Outcome.metric == "scorecard")).all())
    # Same review, different stage: the new hire's weights favour the strong customer score
    # and count the course; the senior's weigh the weak new-product share.
    assert cards["E2"]["value"] > cards["E7"]["value"]
    assert metrics == {e: cards[e]["value"] for e in cards}
    assert cards["E2"]["model_version"] == "formula-1"
    new_hire = next(n for n in world.notes("E2") if n.template == "scorecard_result")
    senior = next(n for n in world.notes("E7") if n.template == "scorecard_result")
    # Each reads about herself; the metrics are named in her language, not by their keys.
    assert "for a new hire" in new_hire.body and "- Training completion:" in new_hire.body
    assert new_hire.body.splitlines()[2].startswith("Your personal score")
    assert "资深员工" in senior.body and "- 新产品业绩占比：" in senior.body
    assert "培训完成度" not in senior.body and "_" not in senior.body.split("触发原因")[0]
    assert f"{round(cards['E7']['value'] * 100)} 分" in senior.subject
    manager = [n for n in world.notes("M1") if n.template == "scorecard_result"]
    assert len(manager) == 2


async def test_the_weekly_scan_asks_the_manager_then_escalates_to_the_hrbp(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1")),
                     world.hire("E8", manager_id="M1", hrbp_id="H1", name="周杰",
                                hired_on="2026-08-18"))
    await world.post(*(world.event(f"sv8-{m}", "survey.response", "E8", f"2026-{m}-20T10:00:00",
                                   survey_id=f"p{m}", satisfaction=s)
                       for m, s in [("08", 4.5), ("09", 3.5), ("10", 2.5), ("11", 1.5)]))
    plan = world.plans["attrition-scan-weekly"]
    totals = await world.env.client.execute_workflow(
        ScanWorkflow.run, ScanInput(rule_id=plan.rule_id, digest=plan.digest),
        id="scan-test", task_queue=world.settings.task_queue)
    assert totals["employees"] == 3 and totals["fired"] == 3  # everyone is scored

    task, = await world.until(lambda: world.tasks("M1"), "the retention task")
    assert task.subject_employee_id == "E8" and task.assignee_id == "M1"
    note, = await world.until(lambda: world.notes("M1", "retention_task"), "the task message")
    assert "- 满意度变化趋势：" in note.body and "尽快安排一次一对一沟通" in note.body

    # Three days unacknowledged: the task is the HRBP's now.
    escalated = await world.until(lambda: world.tasks("H1"), "the escalation",
                                  skip=timedelta(hours=12))
    assert escalated[0].id == task.id and escalated[0].escalation_level == 1
    assert [n.template for n in world.notes("H1")] == ["task_escalated"]


async def test_new_hire_check_ins_at_30_60_and_90_days_show_training_progress(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1")))
    outcomes = await world.post(world.hire("N1", manager_id="M1", hrbp_id="H1", name="小新",
                                           hired_on="2026-11-23"))
    wid = next(f.workflow_id for f in outcomes[0].fired if f.rule_id == "newhire-checkins")
    first = await world.until(lambda: world.tasks("M1"), "the 30-day check-in",
                              skip=timedelta(days=2))
    assert "30" in first[0].title and "小新" in first[0].title
    await world.post(world.event("tc-n1", "training.completed", "N1", "2026-12-30T10:00:00",
                                 course_id="C105"))
    await world.finished(wid, step=timedelta(days=2))
    tasks = world.tasks("M1")
    # One title per language: the Chinese one is the task's own, the English one beside it.
    assert [t.title for t in tasks] == [f"入职 {d} 天回访：小新" for d in (30, 60, 90)]
    assert [t.titles["en"] for t in tasks] == [f"{d}-day check-in: 小新" for d in (30, 60, 90)]
    # The rule does not wait for its tasks: the last task's own workflow sends its message.
    bodies = await world.until(
        lambda: [n.body for n in world.notes("M1") if n.template == "newhire_checkin"][2:]
        and [n.body for n in world.notes("M1") if n.template == "newhire_checkin"],
        "the 90-day check-in message")
    assert len(bodies) == 3
    assert "已完成 0 / 3" in bodies[0] and "已完成 1 / 3" in bodies[1]
