"""A profile's facts, scores and score factors as a person reads them, in their language.

The profile speaks keys and raw values (`satisfaction_drop: 2.5`, `performance_last: {}`,
`last_event_at: 2026-12-05T10:00:00+08:00`); the console shows 满意度降幅 2.5 分, leaves out
what says nothing (the record's own bookkeeping, empty values are 暂无数据), and gives a
score's factors as short sentences: 最近一次满意度 2/5 · 风险上升.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wendu.labels import FACTOR_KINDS, factor_label, is_chinese, label
from wendu.localize import format_date, format_datetime, format_fact, instant, zone

# Bookkeeping of the profile record, or shown elsewhere on the page (the header, the scores).
NOT_SHOWN = frozenset({"employee_id", "manager_id", "locale", "timezone", "as_of", "scores",
                       "project_id"})
DATES = frozenset({"last_attendance_day", "last_promoted_on"})
INSTANTS = frozenset({"last_event_at"})
# Console names of facts the message catalog does not name (wendu.labels.FACT does the rest).
MORE_FACTS = {
    "last_attendance_day": ("最近考勤日", "last attendance day"),
    "last_event_at": ("最近数据时间", "latest data"),
    "last_promoted_on": ("上次晋升", "last promoted"),
    "project_name": ("当前项目", "current project"),
    "performance_last": ("最近一次绩效评分", "latest review scores"),
    "hometown_city": ("户籍城市", "city of household registration"),
    "monthly_pay": ("月薪", "monthly pay"),
    "pay_band_median": ("职级薪酬中位数", "pay band median"),
}
SCORERS = {
    "attrition": ("离职风险", "attrition risk"),
    "burnout": ("倦怠风险", "burnout risk"),
    "sentiment": ("反馈情绪", "feedback sentiment"),
    "topics": ("反馈话题", "feedback topic"),
    "intent": ("咨询意图", "question intent"),
    "scorecard": ("绩效评分卡", "performance scorecard"),
    "course_recommendation": ("推荐课程", "recommended course"),
    "training_progress": ("培训进度", "training progress"),
}
# The label kind of each scorer's `label` (wendu.labels).
LABEL_KINDS = {"attrition": "risk", "burnout": "risk", "sentiment": "sentiment",
               "topics": "topic", "intent": "intent", "scorecard": "scorecard",
               "training_progress": "progress"}
_EFFECT = {"increases": ("风险上升", "raises the risk"), "decreases": ("风险下降", "lowers it")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if is_chinese(lang) else pair[1]


def full_date(value: Any, lang: str, zone_name: str | None) -> str:
    """A day with its year in both languages (a hire date is years back)."""
    moment = instant(value) if value else None
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone(zone_name))
    shown = format_date(moment, lang)
    return f"{moment.year}年{shown}" if is_chinese(lang) else shown


def fact_name(name: str, lang: str) -> str:
    if name in MORE_FACTS:
        return _pick(MORE_FACTS[name], lang)
    return label(name, "fact", lang)


def fact_text(name: str, value: Any, lang: str, zone: str | None) -> str:
    if value in (None, "", {}, []):
        return format_fact(None, name, lang)
    if name in INSTANTS:
        return format_datetime(value, lang, zone)
    if name in DATES:
        return full_date(value, lang, zone)
    if name == "performance_last" and isinstance(value, dict):
        sep = "、" if is_chinese(lang) else ", "
        return sep.join(f"{label(k, 'metric', lang)} {v}/5" for k, v in value.items())
    return format_fact(value, name, lang)


def fact_rows(facts: dict[str, Any], lang: str, zone: str | None) -> list[tuple[str, str, str]]:
    """(key, display name, value in words) of each fact worth showing, in the facts' order."""
    return [(k, fact_name(k, lang), fact_text(k, v, lang, zone))
            for k, v in facts.items() if k not in NOT_SHOWN]


def scorer_name(scorer: str, lang: str) -> str:
    return _pick(SCORERS[scorer], lang) if scorer in SCORERS else scorer


def score_text(score: dict[str, Any], lang: str) -> str:
    """A score's result in words: 高（86%）, 负面, 以客户为中心, 55/100（待提升）."""
    scorer, value, key = score.get("scorer") or "", score.get("value"), score.get("label")
    factors = score.get("factors") or []
    if scorer == "course_recommendation" and factors and isinstance(factors[0], dict):
        title = factors[0].get("title") or {}
        return str(title.get("zh" if is_chinese(lang) else "en") or key or "")
    shown = label(key, LABEL_KINDS[scorer], lang) if key and scorer in LABEL_KINDS else ""
    if isinstance(value, int | float) and scorer in ("attrition", "burnout"):
        share = f"{round(value * 100)}%"
        if not shown:
            return share
        return f"{shown}（{share}）" if is_chinese(lang) else f"{shown} ({share})"
    if isinstance(value, int | float) and scorer == "scorecard":
        points = f"{round(value * 100)}/100"
        if not shown:
            return points
        return f"{points}（{shown}）" if is_chinese(lang) else f"{points} ({shown})"
    return shown or (str(value) if value is not None else "")


def factor_text(factor: Any, scorer: str | None, lang: str) -> str:
    """What follows a factor's name: its value with its unit and which way it pushes."""
    if not isinstance(factor, dict):
        return ""
    name, value = str(factor.get("name", "")), factor.get("value")
    kind = FACTOR_KINDS.get(scorer or "")
    parts = []
    if kind == "fact" and value is not None and not factor.get("hidden"):
        parts.append(format_fact(value, name, lang))
    elif scorer == "scorecard" and factor.get("raw") is not None:
        parts.append(f"{factor['raw']}/5")
    if scorer in ("attrition", "burnout") and factor.get("direction") in _EFFECT:
        parts.append(_pick(_EFFECT[factor["direction"]], lang))
    return " · ".join(parts)


def factor_title(factor: Any, scorer: str | None, lang: str) -> str:
    """A factor's display name: a course by its title, the rest from the label catalog."""
    if isinstance(factor, dict) and isinstance(factor.get("title"), dict):
        return str(factor["title"].get("zh" if is_chinese(lang) else "en") or factor.get("name"))
    return factor_label(factor.get("name") if isinstance(factor, dict) else factor, scorer, lang)
