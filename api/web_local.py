"""The console in the reader's language and time zone: filters its page templates use.

The store speaks UTC, ids and keys (`2026-12-16T03:32:00`, `E1007`, `delivered`, `wecom`); a
page shows 2026年12月16日（周三）11:32, 张伟, 已送达, 企业微信. Each filter reads the page's
language (`lang`), the reader's zone (`reader_zone`, from their employee record) and the names
of the people on the page (`names`, id -> name, which the route looks up) from the template
context, so a template says only what it shows:

    {{ task.due_at | when }}          {{ task | task_title }}       {{ task.assignee_id | person }}
    {{ n.status | status('note') }}   {{ channel | channel }}       {{ n.body | lines }}
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.api.web_audit_words import AUDIT_FILTERS
from wendu.api.web_profile_view import (
    fact_name,
    fact_rows,
    fact_text,
    factor_text,
    factor_title,
    full_date,
    score_text,
    scorer_name,
)
from wendu.localize import DEFAULT_TIMEZONE, EN_MONTHS, format_datetime, format_duration
from wendu.rules.durations import DurationError, parse_duration
from wendu.store.models import Employee, Rule, RuleVersion
from wendu.titles import title_in

LOCAL_STRINGS: dict[str, tuple[str, str]] = {
    "st_task_open": ("待处理", "Open"),
    "st_task_acknowledged": ("处理中", "In progress"),
    "st_task_completed": ("已完成", "Completed"),
    "st_task_dismissed": ("已关闭", "Dismissed"),
    "st_note_pending": ("发送中", "Sending"),
    "st_note_delivered": ("已送达", "Delivered"),
    "st_note_failed": ("发送失败", "Failed"),
    "st_note_digest": ("并入摘要", "In a digest"),
    "st_firing_pending": ("等待启动", "Waiting to start"),
    "st_firing_started": ("已启动", "Started"),
    "st_firing_failed": ("未能执行", "Failed"),
    "st_firing_held_out": ("对照组", "Held out"),
    "snoozed_until": ("推迟到", "Snoozed until"),
    "channel_preferred": ("本人首选渠道", "their preferred channel"),
    "trigger": ("触发条件", "Trigger"),
    "trigger_schedule": ("定时", "Schedule"),
    "assignee": ("负责人", "Assignee"),
    "employee_id": ("工号", "Employee id"),
    "model_version": ("模型版本", "model"),
    "manager_of": ("上级：", "Manager: "),
    "hired_on": ("入职于 ", "joined "),
    "st_role_hr_admin": ("HR 管理员", "HR admin"),
    "st_role_hrbp": ("HRBP", "HRBP"),
    "st_role_manager": ("主管", "manager"),
    "st_role_employee": ("员工", "employee"),
    "event_employee.hired": ("入职", "joined"),
    "event_employee.updated": ("员工信息变更", "employee record changed"),
    "event_employee.left": ("离职", "left"),
    "event_attendance.day_closed": ("每日考勤", "attendance day closed"),
    "event_leave.taken": ("请假", "leave taken"),
    "event_project.progress": ("项目进度", "project progress"),
    "event_survey.response": ("调查问卷", "survey response"),
    "event_feedback.submitted": ("员工反馈", "feedback submitted"),
    "event_chat.message": ("HR 助手咨询", "HR assistant chat"),
    "event_search.query": ("HR 门户搜索", "HR portal search"),
    "event_performance.review": ("绩效评估", "performance review"),
    "event_training.completed": ("完成培训", "training completed"),
    "event_task.completed": ("任务完成", "task completed"),
    # What the library's `record` steps measure (a rule's own metric is shown by its key).
    "outcome_resignation_signals": ("离职意向提示", "resignation signals"),
    "outcome_overtime_alerts": ("加班提醒", "overtime alerts"),
    "outcome_review_trainings_recommended": ("绩效培训推荐", "trainings after a review"),
    "outcome_scorecard": ("绩效评分卡得分", "scorecard score"),
    "outcome_retention_tasks_acknowledged": ("已接手的留任沟通", "retention talks taken on"),
    "outcome_satisfaction_checkins_completed": ("已完成的满意度回访",
                                                "satisfaction check-ins completed"),
    "outcome_guides_pushed": ("已推送的指南", "guides sent"),
    "outcome_satisfaction_course_overdue": ("逾期未学的课程", "courses overdue"),
    "outcome_satisfaction_courses_assigned": ("已安排的课程", "courses assigned"),
}
# The channels a message goes out on: web_ui.STRINGS has their names as channel_<name>.
CHANNELS = ("inapp", "wecom", "email", "webhook")


def reader_zone(user: Any) -> str:
    return getattr(user, "timezone", None) or DEFAULT_TIMEZONE


def names_for(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """id -> name of the employees among `ids` (left or not: a page names them all)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {i: n for i, n in session.execute(
        select(Employee.id, Employee.name).where(Employee.id.in_(wanted))) if n}


class Names(dict[str, str]):
    """id -> name for a page: the ones its route looked up, and any other a template asks
    for, looked up then (`person` on a page whose route named nobody)."""

    def __init__(self, factory: Any, known: dict[str, str] | None = None) -> None:
        super().__init__(known or {})
        self.factory = factory

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        if not key or not isinstance(key, str):
            return default
        if key not in self:
            with self.factory() as session:
                self[key] = session.scalar(select(Employee.name).where(Employee.id == key)) or ""
        return self[key] or default


class RuleTitles(dict[str, dict[str, str]]):
    """rule id -> its current version's title ({zh, en}), read once, when a page asks."""

    def __init__(self, factory: Any) -> None:
        super().__init__()
        self.factory, self.loaded = factory, False

    def of(self, rule_id: str) -> dict[str, str]:
        if not self.loaded:
            self.loaded = True
            with self.factory() as session:
                for rid, plan in session.execute(select(Rule.id, RuleVersion.plan).join(
                        RuleVersion, (RuleVersion.rule_id == Rule.id)
                        & (RuleVersion.digest == Rule.current_digest))):
                    self[rid] = (plan or {}).get("title") or {}
        return self.get(rule_id) or {}


def _lang(ctx: Any) -> str:
    return ctx.get("lang") or "zh-CN"


@pass_context
def when(ctx: Any, value: Any) -> str:
    """An instant (a datetime, naive ones UTC, or ISO text) in the reader's zone and words."""
    return format_datetime(value, _lang(ctx), ctx.get("reader_zone")) if value else ""


@pass_context
def day(ctx: Any, value: Any) -> str:
    return full_date(value, _lang(ctx), ctx.get("reader_zone"))


@pass_context
def task_title(ctx: Any, task: Any) -> str:
    """A task's title (a Task row or a dict) in the page's language."""
    get = task.get if isinstance(task, dict) else lambda key: getattr(task, key, None)
    return title_in(get("title") or "", get("titles"), _lang(ctx))


@pass_context
def person(ctx: Any, employee_id: Any) -> str:
    """The employee's name, or the id when the page does not know it."""
    names = ctx.get("names")
    found = names.get(employee_id) if names is not None else None
    return str(found or employee_id or "")


@pass_context
def status(ctx: Any, value: Any, kind: str = "task") -> str:
    return _word(ctx, f"st_{kind}_{value}", value)


@pass_context
def channel(ctx: Any, value: Any) -> str:
    return _word(ctx, f"channel_{value}", value)


def _word(ctx: Any, key: str, fallback: Any) -> str:
    shown = ctx["t"](key) if "t" in ctx else key
    return str(fallback) if shown == key else shown


def lines(value: Any) -> Markup:
    """Text with its line breaks kept: each line escaped, joined by <br>."""
    return Markup("<br>").join(escape(line) for line in str(value or "").splitlines())


@pass_context
def factor(ctx: Any, f: Any, scorer: str | None) -> str:
    """A score factor's value and effect in words (its name: `factor_name`)."""
    return factor_text(f, scorer, _lang(ctx))


@pass_context
def factor_name(ctx: Any, f: Any, scorer: str | None) -> str:
    return factor_title(f, scorer, _lang(ctx))


@pass_context
def scorer(ctx: Any, name: Any) -> str:
    return scorer_name(str(name), _lang(ctx))


@pass_context
def score(ctx: Any, s: Any) -> str:
    return score_text(s, _lang(ctx))


@pass_context
def facts(ctx: Any, values: Any) -> list[tuple[str, str, str]]:
    return fact_rows(values or {}, _lang(ctx), ctx.get("reader_zone"))


@pass_context
def fact_label(ctx: Any, key: Any) -> str:
    """A fact's name, bare or as the rule wrote it (`profile.overtime_hours_7d`)."""
    return fact_name(str(key).removeprefix("profile."), _lang(ctx))


@pass_context
def fact_value(ctx: Any, value: Any, key: Any) -> str:
    return fact_text(str(key).removeprefix("profile."), value, _lang(ctx), ctx.get("reader_zone"))


@pass_context
def rule_name(ctx: Any, rule_id: Any) -> str:
    """A rule by its title in the page's language; its id where it has none."""
    titles = ctx.get("rule_titles")
    found = titles.of(str(rule_id)) if isinstance(titles, RuleTitles) else {}
    return str(found.get("en" if _lang(ctx) == "en" else "zh") or rule_id or "")


@pass_context
def event_name(ctx: Any, event_type: Any) -> str:
    return _word(ctx, f"event_{event_type}", event_type)


@pass_context
def outcome(ctx: Any, metric: Any) -> str:
    return _word(ctx, f"outcome_{metric}", metric)


@pass_context
def span(ctx: Any, text: Any) -> str:
    """A duration as the rules write it (`90d`) in words: 90 天 / 90 days."""
    try:
        seconds = parse_duration(str(text))
    except DurationError:
        return str(text)
    if seconds % 86400 == 0:
        return format_duration(seconds // 86400, _lang(ctx), "days")
    return format_duration(timedelta(seconds=seconds), _lang(ctx))


@pass_context
def week(ctx: Any, label: Any) -> str:
    """An ISO week (`2026-W49`) in words: 2026 年第 49 周 / week 49, 2026."""
    year, _, number = str(label).partition("-W")
    if not (year.isdigit() and number.isdigit()):
        return str(label)
    return f"{year} 年第 {int(number)} 周" if _lang(ctx) != "en" else f"week {int(number)}, {year}"


def axis_label(label: str, lang: str) -> str:
    """A chart's x label (an ISO day or ISO week) in the reader's words: 12月7日 / Dec 7,
    第 49 周 / W49; anything else as it is."""
    year, _, number = label.partition("-W")
    if year.isdigit() and number.isdigit():
        return f"第 {int(number)} 周" if lang != "en" else f"W{int(number)}"
    try:
        d = date.fromisoformat(label[:10])
    except ValueError:
        return label
    return f"{d.month}月{d.day}日" if lang != "en" else f"{EN_MONTHS[d.month - 1]} {d.day}"


def axis(points: Iterable[tuple[str, float]], lang: str) -> list[tuple[str, float]]:
    return [(axis_label(str(name), lang), value) for name, value in points]


FILTERS: dict[str, Any] = {"when": when, "day": day, "task_title": task_title, "person": person,
           "status": status, "channel": channel, "lines": lines, "factor": factor,
           "factor_name": factor_name, "scorer": scorer, "score": score, "facts": facts,
           "fact_name": fact_label, "fact_value": fact_value, "rule_name": rule_name,
           "event_name": event_name, "span": span, "week": week, "outcome": outcome,
           **AUDIT_FILTERS}
