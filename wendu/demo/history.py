"""The synthetic company's history as events: what producers would have posted, day by day.

`scorers.synth.generate` draws weekly tables with known causes (overtime, surveys, reviews,
training, feedback). Here each week becomes the events of the catalog: a closed attendance day
per working day (the week's overtime spread over its days, its late clock-outs after 21:00, its
rest days worked), leave days, survey answers, reviews, completed courses, feedback and chat
lines. Backtests replay them (`wendu rules backtest --events`), `wendu demo generate` writes
them as `events.jsonl`, and `wendu demo import` stores them as history, firing nothing.
Ids depend only on the company's seed, the employee and the day, so a second import adds
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from wendu.scorers.synth import REVIEW_DIMENSIONS, Company

TIMEZONE = "Asia/Shanghai"
_TZ = ZoneInfo(TIMEZONE)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
FEEDBACK_TEXT = {
    ("workload", "negative"): "最近项目太多，每天都加班到很晚，有点撑不住了",
    ("manager", "negative"): "和经理沟通很困难，意见总是不被采纳",
    ("pay_benefits", "negative"): "薪资和同行相比偏低，调薪也很少",
    ("growth_training", "negative"): "感觉没有成长空间，也没有培训机会",
    ("work_life_balance", "negative"): "周末也经常被叫回来工作，没时间陪家人",
}
NEUTRAL_TEXT = "流程基本顺畅，工具有时会卡一下"
POSITIVE_TEXT = "团队氛围很好，同事之间互相帮助，学到了很多"
CHAT_SMALL_TALK = ("今天下午的站会改到三点了", "中午一起吃饭吗", "ok 收到", "会议室换到 5 楼了",
                   "thanks, see you tomorrow", "周五团建去哪里", "文档我已经更新了")
CHAT_NEEDS = ("公积金怎么提取？", "年假还剩几天，怎么申请？", "我想辞职了，离职流程是怎样的")


def history_end(weeks: int, end: date | None = None) -> date:
    """The last day of the history: the Sunday ending the latest full week before `end`."""
    end = end or date.today()
    return end - timedelta(days=end.weekday() + 1)


def company_events(company: Company, end: date | None = None) -> Iterator[dict[str, Any]]:
    """Every event of the company's history, in time order, ending on `end` (a Sunday)."""
    last = history_end(company.weeks, end) if end is None or end.weekday() != 6 else end
    first_monday = last - timedelta(days=7 * company.weeks - 1)
    rng = np.random.default_rng(company.seed + 1)
    events = list(_hires(company, first_monday))
    for i in range(len(company)):
        events += _employee_history(company, i, first_monday, rng)
    events.sort(key=lambda e: (e["occurred_at"], e["id"]))
    yield from events


def write_events(company: Company, out: Path, end: date | None = None) -> int:
    """Write the history as JSON lines (one event a line); returns how many."""
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for event in company_events(company, end):
            fh.write(json.dumps(event, ensure_ascii=False) + "\n")
            count += 1
    return count


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), _TZ).isoformat()


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + \
        GIVEN[(i * 7) % len(GIVEN)]


def _hires(company: Company, start: date) -> Iterator[dict[str, Any]]:
    e, ids = company.employees, company.ids
    hr = [ids[i] for i in range(len(company)) if e["department"][i] == "HR"]
    snapshot = start + timedelta(days=7 * company.weeks)
    for i, emp_id in enumerate(ids):
        hired_on = snapshot - timedelta(days=int(e["tenure_days"][i]))
        data: dict[str, Any] = {
            "name": _name(i), "email": f"{emp_id.lower()}@wendu-demo.example",
            "department": str(e["department"][i]), "title": f"P{int(e['level'][i])}",
            "hired_on": hired_on.isoformat(), "hometown_city": str(e["hometown_city"][i]),
            "work_city": str(e["work_city"][i]), "locale": "zh-CN", "timezone": TIMEZONE,
            "groups": ["hr", "hr_care"] if e["department"][i] == "HR" else [],
            "wecom_userid": emp_id.lower(),
            "preferred_channels": ["email"] if i % 4 == 0 else ["wecom"],
            "level": int(e["level"][i]), "monthly_pay": float(e["monthly_pay"][i]),
            "pay_band_median": float(e["band_median"][i]),
            "commute_km": float(e["commute_km"][i]),
        }
        if e["manager_id"][i]:
            data["manager_id"] = str(e["manager_id"][i])
        if hr and emp_id not in hr:
            data["hrbp_id"] = hr[i % len(hr)]
        yield {"id": f"gen{company.seed}-hire-{emp_id}", "type": "employee.hired",
               "employee_id": str(emp_id), "occurred_at": _at(min(hired_on, start), 9),
               "data": data}


def _employee_history(company: Company, i: int, start: date,
                      rng: np.random.Generator) -> list[dict[str, Any]]:
    emp_id = str(company.ids[i])
    prefix = f"gen{company.seed}-{emp_id}"
    out: list[dict[str, Any]] = []
    for week in range(company.weeks):
        monday = start + timedelta(days=7 * week)
        leave = min(int(company.leave[i, week]), 4)
        workdays = [monday + timedelta(days=d) for d in range(5)]
        for day in workdays[5 - leave:]:
            out.append({"id": f"{prefix}-leave-{day}", "type": "leave.taken",
                        "employee_id": emp_id, "occurred_at": _at(day, 9),
                        "data": {"day": day.isoformat(), "days": 1, "kind": "annual"}})
        worked = workdays[:5 - leave]
        worked += [monday + timedelta(days=5 + d) for d in range(int(company.weekend[i, week]))]
        hours = float(company.overtime[i, week])
        shares = rng.dirichlet(np.full(len(worked), 4.0)) if worked else []
        late = set(rng.choice(len(worked), min(int(company.late[i, week]), len(worked)),
                              replace=False)) if worked else set()
        for k, (day, share) in enumerate(zip(worked, shares, strict=True)):
            overtime = min(round(hours * float(share), 1), 8.0)
            out_at = (datetime.combine(day, time(18, 0), _TZ)
                      + timedelta(hours=overtime + (3.2 if k in late else 0)))
            if k in late and out_at.hour < 21:
                out_at = datetime.combine(day, time(21, 20), _TZ)
            out.append({"id": f"{prefix}-day-{day}", "type": "attendance.day_closed",
                        "employee_id": emp_id, "occurred_at": out_at.isoformat(),
                        "data": {"day": day.isoformat(), "clock_in": _at(day, 9),
                                 "clock_out": out_at.isoformat(), "overtime_hours": overtime,
                                 "weekend": day.weekday() >= 5}})
        if rng.random() < 0.3:
            day = monday + timedelta(days=int(rng.integers(0, 5)))
            need = rng.random() < 0.05
            text = (CHAT_NEEDS[int(rng.integers(0, len(CHAT_NEEDS)))] if need
                    else CHAT_SMALL_TALK[int(rng.integers(0, len(CHAT_SMALL_TALK)))])
            out.append({"id": f"{prefix}-chat-{day}", "type": "chat.message",
                        "employee_id": emp_id, "occurred_at": _at(day, 11, 5),
                        "data": {"text": text, "channel": "wecom"}})
    for j, week in enumerate(company.survey_weeks):
        day = start + timedelta(days=7 * int(week) + 4)
        out.append({"id": f"{prefix}-survey-{week}", "type": "survey.response",
                    "employee_id": emp_id, "occurred_at": _at(day, 16),
                    "data": {"survey_id": f"pulse-w{int(week)}",
                             "satisfaction": float(company.satisfaction[i, j])}})
    for period, week in ((0, 1), (1, company.weeks - 2)):
        day = start + timedelta(days=7 * week + 2)
        scores = {d: float(company.reviews[d][i, period]) for d in REVIEW_DIMENSIONS}
        out.append({"id": f"{prefix}-review-{period}", "type": "performance.review",
                    "employee_id": emp_id, "occurred_at": _at(day, 15),
                    "data": {"period": f"R{period + 1}", "scores": scores,
                             "overall": float(company.reviews["overall"][i, period])}})
    t = company.trainings
    for k in np.flatnonzero(t["employee"] == i):
        day = start + timedelta(days=7 * int(t["week"][k]) + 3)
        out.append({"id": f"{prefix}-course-{k}", "type": "training.completed",
                    "employee_id": emp_id, "occurred_at": _at(day, 17),
                    "data": {"course_id": f"C{int(t['course'][k]):03d}",
                             "rating": float(t["rating"][k])}})
    f = company.feedback
    for k in np.flatnonzero(f["employee"] == i):
        day = start + timedelta(days=7 * int(f["week"][k]) + 1)
        sentiment, topic = str(f["sentiment"][k]), str(f["topic"][k])
        text = (FEEDBACK_TEXT.get((topic, sentiment), NEUTRAL_TEXT) if sentiment == "negative"
                else POSITIVE_TEXT if sentiment == "positive" else NEUTRAL_TEXT)
        out.append({"id": f"{prefix}-{f['id'][k]}", "type": "feedback.submitted",
                    "employee_id": emp_id, "occurred_at": _at(day, 14),
                    "data": {"text": text, "channel": "survey"}})
    return out


def import_history(factory: Any, path: Path, batch: int = 2000) -> tuple[int, int]:
    """Store a JSONL file of events through ingestion with no rule enabled: (stored, read).

    History is not news: profiles and employee records are built as ingest builds them, and
    nothing fires. Each batch is one transaction; a malformed line stops the import there.
    """
    from wendu.event_models import EventValidationError
    from wendu.ingest import ingest
    from wendu.rules.matcher import RuleIndex
    from wendu.store.db import transaction

    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    stored = read = 0
    chunk: list[tuple[int, dict[str, Any]]] = []

    def flush() -> int:
        try:
            with transaction(factory) as session:
                outcomes = ingest(session, [e for _, e in chunk], RuleIndex([]))
        except EventValidationError as exc:
            first = exc.errors[0]
            where = first["loc"][0] if first["loc"] and isinstance(first["loc"][0], int) else 0
            field = str(first["field"]).split("]", 1)[-1].lstrip(".")
            raise ValueError(f"{path}:{chunk[where][0]}: {field or 'event'}: {first['msg']}; "
                             f"{stored:,} events before it were stored") from None
        return sum(o.status == "accepted" for o in outcomes)

    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                chunk.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}:{exc.colno}: not JSON: {exc.msg}; "
                                 f"{stored:,} events before it were stored") from None
            read += 1
            if len(chunk) >= batch:
                stored += flush()
                chunk = []
    if chunk:
        stored += flush()
    return stored, read
