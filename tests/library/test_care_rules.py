"""Overtime care, the satisfaction-drop course, the needs guides and the resignation signal."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from sqlalchemy import select

from wendu.scorers.courses import load_catalog
from wendu.store.models import Event, Outcome, ScoreRecord, TaskAction, Wait

FEEDBACK = ["最近加班太多，工作量太大，每天都做不完", "需求一直变，人手不够，压力很大"]


def _attendance(world, emp: str, first: date, days: int, prefix: str = "att") -> list[dict]:
    out = []
    for i in range(days):
        day = (first + timedelta(days=i)).isoformat()
        out.append(world.event(f"{prefix}-{emp}-{day}", "attendance.day_closed", emp,
                               f"{day}T22:30:00", day=day, clock_in=f"{day}T09:00:00+08:00",
                               clock_out=f"{day}T22:30:00+08:00", overtime_hours=4.5))
    return out


async def test_overtime_week_tells_manager_with_project_progress_and_employee_once(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "E1")))
    await world.post(world.event("prj-1", "project.progress", "E1", "2026-11-15T18:00:00",
                           project_id="P7", project_name="星河支付", percent_done=62.0))
    # Monday to Saturday of ISO week 47: late every day, 27 h of overtime.
    outcomes = await world.post(*_attendance(world, "E1", date(2026, 11, 16), 6))
    fired = [f.workflow_id for o in outcomes for f in o.fired if f.rule_id == "overtime-care-week"]
    assert len(fired) == 1
    await world.finished(fired[0])

    manager, = world.notes("M1")
    assert manager.template == "care_overtime_manager"
    assert "张伟" in manager.subject and "星河支付" in manager.body and "62%" in manager.body
    # The why, worded in the manager's language: the rule by its title, its version, what
    # matched; never the rule's id, a key for HR's tools.
    assert "触发原因：规则「智能考勤预警」（第 1 版）；条件：" in manager.body
    assert "overtime-care-week" not in manager.body and "Overtime care" not in manager.body
    employee, = world.notes("E1")
    assert employee.template == "care_overtime_employee"
    assert "https://hr.example.com/service/comp-time" in employee.body

    # Sunday of the same week: the rule has fired for this week already.
    again = await world.post(*_attendance(world, "E1", date(2026, 11, 22), 1))
    assert [f.rule_id for f in again[0].already_fired] == ["overtime-care-week"]
    assert [n.template for n in world.notes()] == ["care_overtime_manager",
                                                   "care_overtime_employee"]


async def test_satisfaction_drop_assigns_a_course_reminds_once_then_tells_hr(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "E1")))
    await world.post(*(world.event(f"fb-{i}", "feedback.submitted", "E1",
                                   f"2026-11-{10 + i}T10:00:00", text=t, channel="survey")
                       for i, t in enumerate(FEEDBACK)))
    surveys = [world.event(f"sv-{i}", "survey.response", "E1", f"2026-{m}-20T10:00:00",
                     survey_id=f"pulse-{m}", satisfaction=s)
               for i, (m, s) in enumerate([("08", 4.5), ("09", 4.4), ("10", 4.6), ("11", 2.5)])]
    outcomes = await world.post(*surveys)
    fired = [f.workflow_id for o in outcomes for f in o.fired
             if f.rule_id == "satisfaction-drop-course"]
    assert len(fired) == 1

    result = await world.finished(fired[0])  # 14 days, then 7 more, skipped

    with world.factory() as session:
        course_id = session.scalars(select(ScoreRecord.factors).where(
            ScoreRecord.scorer == "course_recommendation")).one()[0]["name"]
        topics = session.scalars(select(ScoreRecord.factors).where(
            ScoreRecord.scorer == "topics")).one()
    course = next(c for c in load_catalog() if c.id == course_id)
    # The feedback was about workload: the course is for time management.
    assert "time_management" in course.dimensions
    task, = world.tasks("E1")
    assert course.title["zh"] in task.title
    assert round((task.due_at - task.created_at) / timedelta(days=1)) == 14
    assigned, reminder = world.notes("E1")
    assert (assigned.template, reminder.template) == ("course_assigned", "course_reminder")
    assert f"{course.reward} 学习积分" in assigned.body and course.title["zh"] in assigned.body
    hr = world.notes("H1")
    assert [n.template for n in hr] == ["course_overdue_hr"]
    note, = world.notes("M1")
    assert note.template == "course_manager_note" and course.title["zh"] in note.body

    # What the employee wrote reaches no message, no score record, no workflow result.
    stored = json.dumps([topics, result], ensure_ascii=False, default=str)
    for text in FEEDBACK:
        for piece in (text[:4], text[-4:], *text.split("，")):
            for n in world.notes():
                assert piece not in n.body, (n.recipient_id, piece)
            assert piece not in stored


async def test_a_completed_course_ends_the_follow_up(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "E1")))
    outcomes = await world.post(*(world.event(f"sv-{m}", "survey.response", "E1",
                                        f"2026-{m}-20T10:00:00", survey_id=m, satisfaction=s)
                                  for m, s in [("09", 4.8), ("10", 4.6), ("11", 3.0)]))
    wid = next(f.workflow_id for o in outcomes for f in o.fired)
    task = await world.until(lambda: world.tasks("E1"), "the course task")
    await world.until(lambda: world.waiting(wid), "the rule to wait for training.completed")
    with world.factory() as session:
        course_id = session.scalars(select(ScoreRecord.factors).where(
            ScoreRecord.scorer == "course_recommendation")).one()[0]["name"]
    # Another course does not count: the to-do stays open, the rule keeps waiting.
    await world.post(world.event("tc-0", "training.completed", "E1", "2026-11-24T10:00:00",
                           course_id="C999", rating=3.0))
    await asyncio.sleep(0.5)
    assert [t.status for t in world.tasks("E1")] == ["open"] and world.waiting(wid)
    await world.post(world.event("tc-1", "training.completed", "E1", "2026-11-25T10:00:00",
                           course_id=course_id, rating=4.5))
    # The rule ends at once, no timer left to skip (and the task with it): wait for its result.
    await world.env.client.get_workflow_handle(wid).result()
    assert task
    assert [n.template for n in world.notes("E1")] == ["course_assigned"]
    assert world.notes("H1") == []
    # The course done, the to-do is done too, in the engine's name, with the event as comment.
    done = await world.until(lambda: [t for t in world.tasks("E1") if t.status == "completed"],
                             "the course task to complete itself")
    assert done[0].outcome_comment == "training.completed tc-1"
    with world.factory() as session:
        assert session.scalars(select(TaskAction.actor_id)).all() == ["wendu"]
    # The task is completed before its workflow clears its own wait: wait for that workflow.
    await world.env.client.get_workflow_handle(f"task/{done[0].id}").result()
    with world.factory() as session:
        assert session.scalars(select(Wait)).all() == []  # nobody waits any more


async def test_a_hangzhou_housing_fund_question_gets_the_hangzhou_guide_once_a_week(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "E1")))

    async def ask(eid: str, etype: str, at: str, text: str) -> list[str]:
        extra = {"channel": "wecom"} if etype == "chat.message" else {}
        outcomes = await world.post(world.event(eid, etype, "E1", at, text=text, **extra))
        for f in outcomes[0].fired:
            await world.finished(f.workflow_id)
        return [f.rule_id for f in outcomes[0].fired]

    # Small talk first: it asks nothing of HR, starts no workflow and does not use up the week.
    assert await ask("chat-0", "chat.message", "2026-11-23T09:00:00",
                     "今天下午的站会改到三点了") == []
    assert world.notes("E1") == []
    assert await ask("chat-1", "chat.message", "2026-11-24T10:00:00",
                     "杭州的公积金怎么提取？") == ["needs-guide-chat"]
    guide, = world.notes("E1")
    assert guide.template == "guide_housing_fund"
    assert "杭州" in guide.body and "浙里办" in guide.body
    assert "https://hr.example.com/service/housing-fund" in guide.body
    assert "上海" not in guide.body and "北京" not in guide.body

    # Asked again the same week, in chat or in the portal search: the guide is not pushed again.
    await ask("chat-2", "chat.message", "2026-11-26T15:00:00", "公积金提取需要什么材料")
    await ask("q-2", "search.query", "2026-11-27T11:00:00", "公积金提取")
    assert len(world.notes("E1")) == 1
    # Another need the same week gets its own guide; a week later the housing fund guide again.
    await ask("chat-3", "chat.message", "2026-11-27T16:00:00", "怎么开在职证明")
    await world.env.sleep(timedelta(days=7))
    await ask("chat-4", "chat.message", "2026-12-01T10:00:00", "杭州的公积金怎么提取？")
    assert [n.template for n in world.notes("E1")] == [
        "guide_housing_fund", "guide_certificate", "guide_housing_fund"]
    # The metric counts guides that went out, not questions: the two repeats count 0.
    with world.factory() as session:
        pushed = session.execute(select(Outcome.workflow_id, Outcome.value)
                                 .where(Outcome.metric == "guides_pushed")).all()
    by_message = {wid.rsplit("/", 1)[-1]: value for wid, value in pushed}
    assert by_message == {"chat-1": 1, "chat-2": 0, "q-2": 0, "chat-3": 1, "chat-4": 1}


async def test_other_cities_and_no_city_get_their_own_guide(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1")),
                     world.hire("E3", manager_id="M1", name="王芳", hometown_city="北京"),
                     world.hire("E4", manager_id="M1", name="Tom", locale="en"))
    outcomes = await world.post(
        world.event("q-3", "search.query", "E3", "2026-11-24T10:00:00", text="公积金提取"),
        world.event("q-4", "search.query", "E4", "2026-11-24T10:00:00",
              text="how to withdraw housing fund"))
    for o in outcomes:
        for f in o.fired:
            await world.finished(f.workflow_id)
    beijing, = world.notes("E3")
    assert "北京公积金" in beijing.body and "杭州" not in beijing.body
    general, = world.notes("E4")
    assert general.locale == "en" and "the city where you contribute" in general.body


async def test_resignation_intent_tells_hr_privately_and_never_the_manager(world):
    await world.post(*(world.hire(p) for p in ("M1", "H1", "C1", "E2")))
    text = "我想辞职了，离职流程是怎样的"
    outcomes = await world.post(world.event("chat-9", "chat.message", "E2", "2026-11-24T10:00:00",
                                      text=text, channel="wecom"))
    for f in outcomes[0].fired:
        await world.finished(f.workflow_id)
    signals = world.notes(template="resignation_signal")
    assert sorted(n.recipient_id for n in signals) == ["C1", "H1"]
    assert world.notes("M1") == [] and world.notes("E2") == []
    for n in signals:
        assert text not in n.body and "辞职" not in n.body and "David Wu" in n.subject
    # Each in the recipient's language, down to the why: Sarah in English, 刘洋 in Chinese.
    why = {n.recipient_id: n.body for n in signals}
    assert 'rule "Resignation intent signal" v2' in why["C1"] and "规则" not in why["C1"]
    assert "规则「离职意向私密提示」（第 2 版）" in why["H1"]
    with world.factory() as session:
        assert session.get(Event, "chat-9") is not None
