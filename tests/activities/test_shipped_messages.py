"""Every shipped template, in zh-CN and en, as the demo company's people would read it.

Each template renders for a Chinese and an English reader of the demo company, over every
label its scorers can produce, and the message must be finished text: no snake_case key or
English label in a Chinese message, no Chinese label in an English one, no raw ISO date or
time, no link that is a bare path, and a body that says something. Task templates must also
leave a full description for the task's own page (their text without the link).
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest

from wendu.activities.notify_keys import Links
from wendu.activities.people import Person
from wendu.activities.render import TemplateRenderer
from wendu.demo.company import COMPANY, PAY, TIMEZONE
from wendu.labels import KINDS, intent_names
from wendu.rules.catalog import profile_defaults
from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR, TemplateCatalog
from wendu.scorers.corpora import INTENTS, SENTIMENTS, TOPICS
from wendu.scorers.courses import CourseRecommender
from wendu.scorers.scorecard import ScorecardScorer, TrainingProgressScorer

TODAY = date(2026, 12, 2)
DUE = "2026-12-16T11:32:23.865161+00:00"
PEOPLE = {p.id: p for p in COMPANY}
READERS = {"zh-CN": PEOPLE["E1002"], "en": PEOPLE["E1003"]}  # 李娜, Emily Chen
SUBJECT = PEOPLE["E1011"]  # 孙丽, a new-ish account manager
WHY = {"zh-CN": "规则 performance-scorecard（第 1 版）；条件：profile.tenure_days < 180",
       "en": "rule performance-scorecard v1; when profile.tenure_days < 180"}
TASK_TEMPLATES = {"course_assigned", "newhire_checkin", "retention_talk", "retention_task",
                  "review_training_todo", "satisfaction_checkin_task", "task_assigned",
                  "task_escalated", "task_reminder"}
SCORECARD_WEIGHTS = {  # as rules/library/performance_scorecard.yaml sets them
    "new_hire": {"training_completion": 0.35, "customer_focus": 0.3, "delivery": 0.2,
                 "teamwork": 0.15},
    "senior": {"new_product_share": 0.35, "teamwork": 0.3, "delivery": 0.2,
               "customer_focus": 0.15},
}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?")
BARE_PATH = re.compile(r"(?:^|[\s：:（(「\"'])(/[A-Za-z][\w\-/]*)")
CJK = re.compile(r"[\u3400-\u9fff]")


def _profile(person) -> dict[str, Any]:
    level, pay, median, commute, _ = PAY[person.id]
    return {**profile_defaults(), "employee_id": person.id, "hometown_city": person.hometown_city,
            "tenure_days": (TODAY - person.hired_on).days, "overtime_hours_7d": 27.5,
            "late_departures_7d": 5, "weekend_days_7d": 1, "overtime_hours_28d": 61.0,
            "satisfaction_last": 2.5, "satisfaction_avg": 4.4666667, "satisfaction_drop": 1.97,
            "satisfaction_trend": -0.6, "performance_last": {"customer_focus": 3.5,
                                                            "delivery": 2.5, "teamwork": 4.0},
            "performance_overall": 3.3, "performance_weakest": "delivery",
            "training_completed_90d": 1, "training_completed_total": 2,
            "project_name": "支付网关重构 Payment gateway", "project_percent_done": 65.0,
            "pay_ratio": round(pay / median, 3), "commute_km": commute, "level": level}


def _factor(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "contribution": 0.2, "direction": "increases"}


def contexts(reader, topic: str, mood: str, intent: str, stage: str) -> dict[str, Any]:
    subject = SUBJECT
    profile = _profile(subject)
    employee = {"id": subject.id, "name": subject.name, "department": subject.department,
                "title": subject.title, "hometown_city": subject.hometown_city}
    args = {"weights": SCORECARD_WEIGHTS, "stage": stage, "training_target": 3}
    card = ScorecardScorer().score({"profile": profile, "args": args})
    progress = TrainingProgressScorer().score({"profile": profile, "args": {"target": 3}})
    recommender = CourseRecommender(completions=[])
    course = recommender.score({"profile": profile, "employee": employee,
                                "args": {"dimension": "time_management"}})
    courses = recommender.score({"profile": profile, "employee": employee})
    risk = {"value": 0.71, "label": "high", "model_version": "test",
            "factors": [_factor(n, profile[n]) for n in (
                "tenure_days", "pay_ratio", "overtime_hours_28d", "commute_km",
                "satisfaction_drop", "late_departures_7d", "level", "manager_changes_1y")]}
    links = Links()
    zh = reader.locale == "zh-CN"
    return {
        "event": {"period": "2026-H2", "survey_id": "pulse-11"},
        "employee": employee, "profile": profile,
        "rule": {"id": "performance-scorecard", "version": 1,
                 "title": {"zh": "个性化绩效评分卡", "en": "Personalized performance scorecard"}},
        "why": WHY["zh-CN" if reader.locale == "zh-CN" else "en"],
        "comp_time_url": "https://hr.example.com/service/comp-time",
        "service_url": "https://hr.example.com/service",
        "checkin_day": 30, "stage": stage, "area": "time_management",
        "skill_topic": True, "card": card, "progress": progress, "course": course,
        "courses": courses, "risk": risk,
        "mood": {"value": -0.6, "label": mood},
        "topic": {"value": 0.8, "label": topic},
        "score": {"intent": {"value": 0.94, "label": intent}},
        # A digest lists subjects as they were rendered for this reader.
        "items": [{"subject": "孙丽 的绩效评分卡" if zh else "孙丽's scorecard",
                   "date": "2026-12-01", "rule": "performance-scorecard"}],
        "count": 1, "inbox_url": links.inbox(),
        # A task's title is the rule's text (the library's are in the reader's language).
        "task": {"id": "T-7c60b61402035b6a",
                 "title": "与 孙丽 进行 1:1 沟通" if zh else "1:1 check-in with 孙丽",
                 "due_at": DUE, "status": "open", "escalation_level": 1,
                 "url": links.task("T-7c60b61402035b6a")},
    }


def _recipient(reader) -> dict[str, Any]:
    return Person(reader.id, reader.name, reader.locale, "manager",
                  timezone=TIMEZONE).as_recipient()


def variants() -> list[tuple[str, str, str, str]]:
    """(topic, mood, intent, stage): every label at least once."""
    rows = []
    for i in range(max(len(TOPICS), len(SENTIMENTS), len(INTENTS), 2)):
        rows.append((TOPICS[i % len(TOPICS)], SENTIMENTS[i % len(SENTIMENTS)],
                     INTENTS[i % len(INTENTS)], ("new_hire", "senior")[i % 2]))
    return rows


ENGLISH_LABELS = {en for names in KINDS.values() for _, en in names.values()} | {
    en for _, en in intent_names().values()}
RAW_KEYS = {key for names in KINDS.values() for key in names} | set(intent_names())
NAMES = sorted({p.name for p in COMPANY}, key=len, reverse=True)


def problems(text: str, locale: str, why: str) -> list[str]:
    found = []
    readable = text.replace(why, "")  # the rule's own conditions, quoted as written
    readable = re.sub(r"https?://\S+", " ", readable)
    found += [f"snake_case key {m!r}" for m in SNAKE.findall(readable)]
    found += [f"raw ISO date {m!r}" for m in ISO.findall(text)]
    found += [f"relative link {m!r}" for m in BARE_PATH.findall(text)]
    if locale == "zh-CN":
        words = set(re.findall(r"[A-Za-z][A-Za-z\- ]*[A-Za-z]|[A-Za-z]", readable))
        found += [f"English label {w!r}" for w in words
                  if w in ENGLISH_LABELS or w in RAW_KEYS]
    else:
        for name in NAMES:
            readable = readable.replace(name, "")
        readable = readable.replace("支付网关重构", "")  # the project's own name
        found += [f"Chinese text {m!r}" for m in set(CJK.findall(readable))][:1]
    return found


CATALOG = TemplateCatalog(DEFAULT_TEMPLATES_DIR)
RENDERER = TemplateRenderer(DEFAULT_TEMPLATES_DIR)


@pytest.mark.parametrize("template", CATALOG.names())
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_shipped_template_reads_as_finished_text(template: str, locale: str) -> None:
    reader = READERS[locale]
    seen: dict[str, str] = {}
    for topic, mood, intent, stage in variants():
        ctx = {**contexts(reader, topic, mood, intent, stage), "recipient": _recipient(reader)}
        used, subject, body = RENDERER.render(template, reader.locale, ctx)
        assert used == locale
        assert body.strip(), f"{template}/{locale}: empty body"
        texts = {"subject": subject, "body": body}
        for channel in ("wecom", "email"):
            variant = RENDERER.variant(template, used, channel, ctx)
            if variant:
                texts[channel] = html.unescape(re.sub(r"</?[A-Za-z!][^<>]*>", " ", variant))
        if template in TASK_TEMPLATES:
            # What the task's own page shows: the message without the link to that page.
            plain = {**ctx, "task": {**ctx["task"], "url": ""}}
            described = RENDERER.render(template, reader.locale, plain)[2]
            assert described.strip(), f"{template}/{locale}: no description for the task"
            assert ctx["task"]["url"] not in described
            assert ctx["task"]["url"] in body, f"{template}/{locale}: no link to the task"
        for part, text in texts.items():
            for problem in problems(text, locale, ctx["why"]):
                seen.setdefault(f"{template}/{locale} {part}: {problem}", text)
    assert not seen, "\n".join(f"{p}\n{text}\n" for p, text in seen.items())


def test_the_employees_own_scorecard_speaks_to_her() -> None:
    ctx = contexts(SUBJECT, "workload", "negative", "none", "new_hire")
    own = Person(SUBJECT.id, SUBJECT.name, "zh-CN", "employee").as_recipient()
    subject, body = RENDERER.render("scorecard_result", "zh-CN", {**ctx, "recipient": own})[1:]
    assert subject.startswith("您的绩效评分卡")
    assert body.startswith("孙丽，您好：\n\n您本期（2026-H2）")
    assert "孙丽 本期" not in body and "（good）" not in body
    manager = {**ctx, "recipient": _recipient(PEOPLE["E1003"])}
    assert "Sun" not in RENDERER.render("scorecard_result", "en", manager)[1]
    assert "孙丽's personal score" in RENDERER.render("scorecard_result", "en", manager)[2]


def test_due_dates_are_in_the_readers_zone_and_words() -> None:
    ctx = contexts(READERS["zh-CN"], "workload", "negative", "none", "senior")
    zh = RENDERER.render("task_assigned", "zh-CN",
                         {**ctx, "recipient": _recipient(READERS["zh-CN"])})[2]
    assert "截止时间：2026年12月16日（周三）19:32" in zh
    en = RENDERER.render("task_assigned", "en", {**ctx, "recipient": _recipient(READERS["en"])})[2]
    assert "Due: Wed 16 Dec 2026, 19:32" in en
    assert "Open it: http://127.0.0.1:8000/console/tasks/T-7c60b61402035b6a" in en


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_managers_retention_task_names_pay_but_not_its_figure(locale: str) -> None:
    reader = READERS[locale]
    ctx = {**contexts(reader, "workload", "negative", "none", "senior"),
           "recipient": _recipient(reader)}
    body = RENDERER.render("retention_task", locale, ctx)[2]
    [pay] = [line for line in body.splitlines() if "HRBP" in line and line.startswith("- ")]
    figure = ctx["profile"]["pay_ratio"]
    assert str(figure) not in body and f"{figure:.0%}" not in body and f"{figure:.2f}" not in body
    assert pay.startswith("- 薪酬与职级中位数之比。" if locale == "zh-CN" else
                          "- Pay against the band median - ")
