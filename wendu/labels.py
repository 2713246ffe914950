"""Display names, in zh-CN and en, for the keys scorers and profiles speak in.

A scorer says `workload`, `negative`, `customer_focus`, `good`; an employee reads 工作量,
负面, 客户导向, 良好. Templates name the kind of key (`{{ topic.label | label('topic') }}`) and
the console passes the same function to its pages, so a message and the page it links to
use the same words.

A key missing from the catalog is shown as it is, never guessed: a shipped template's test
renders every message in both languages and fails on a key left untranslated.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

# kind -> key -> (zh-CN, en)
_Names = dict[str, tuple[str, str]]

TOPIC: _Names = {
    "workload": ("工作量", "workload"),
    "manager": ("与主管的沟通", "working with the manager"),
    "pay_benefits": ("薪酬福利", "pay and benefits"),
    "growth_training": ("成长与培训", "growth and training"),
    "team": ("团队协作", "the team"),
    "process_tools": ("流程与工具", "processes and tools"),
    "work_life_balance": ("工作与生活平衡", "work-life balance"),
    "other": ("其他", "other"),
}

SENTIMENT: _Names = {
    "negative": ("负面", "negative"),
    "neutral": ("中性", "neutral"),
    "positive": ("正面", "positive"),
}

# Review dimensions (performance.review scores) and the areas a course strengthens.
DIMENSION: _Names = {
    "communication": ("沟通", "communication"),
    "customer_focus": ("客户导向", "customer focus"),
    "delivery": ("交付与流程", "delivery"),
    "innovation": ("创新", "innovation"),
    "leadership": ("领导力", "leadership"),
    "ownership": ("主人翁意识", "ownership"),
    "problem_solving": ("解决问题", "problem solving"),
    "teamwork": ("团队协作", "teamwork"),
    "technical": ("专业技能", "technical skills"),
    "time_management": ("时间管理", "time management"),
    "wellbeing": ("身心健康", "wellbeing"),
}

# Scorecard metrics: the review dimensions plus those measured elsewhere.
METRIC: _Names = {
    **DIMENSION,
    "training_completion": ("培训完成度", "training completion"),
    "new_product_share": ("新产品业绩占比", "new-product share"),
}

# Score labels, per scorer: scorecard, attrition/burnout risk, training progress.
SCORECARD: _Names = {
    "excellent": ("优秀", "excellent"),
    "good": ("良好", "good"),
    "developing": ("待提升", "developing"),
}
RISK: _Names = {
    "low": ("低", "low"),
    "medium": ("中", "medium"),
    "high": ("高", "high"),
}
PROGRESS: _Names = {
    "on_track": ("已达标", "on track"),
    "started": ("进行中", "under way"),
    "not_started": ("尚未开始", "not started"),
}
STAGE: _Names = {
    "new_hire": ("新员工", "new hire"),
    "senior": ("资深员工", "experienced employee"),
}

# Profile facts, as the attrition and burnout factors and the console name them.
FACT: _Names = {
    "tenure_days": ("司龄", "time with the company"),
    "overtime_hours_7d": ("近 7 天加班", "overtime in the last 7 days"),
    "overtime_hours_28d": ("近 28 天加班", "overtime in the last 28 days"),
    "late_departures_7d": ("近 7 天晚于 21:00 下班", "late evenings in the last 7 days"),
    "weekend_days_7d": ("近 7 天休息日上班", "rest days worked in the last 7 days"),
    "overtime_vs_own_baseline": ("加班较自身常态的增幅", "overtime above own usual"),
    "overtime_vs_team": ("加班较团队的差距", "overtime above the team's"),
    "overtime_streak_weeks": ("连续高加班周数", "weeks of heavy overtime in a row"),
    "leave_days_90d": ("近 90 天请假", "leave in the last 90 days"),
    "satisfaction_last": ("最近一次满意度", "latest satisfaction"),
    "satisfaction_avg": ("此前平均满意度", "earlier average satisfaction"),
    "satisfaction_trend": ("满意度变化趋势", "satisfaction trend"),
    "satisfaction_drop": ("满意度降幅", "satisfaction drop"),
    "performance_overall": ("最近一次绩效", "latest performance rating"),
    "performance_weakest": ("最待加强的绩效维度", "weakest review dimension"),
    "training_completed_90d": ("近 90 天完成课程", "courses completed in 90 days"),
    "training_completed_total": ("累计完成课程", "courses completed"),
    "feedback_count_30d": ("近 30 天反馈", "feedback in the last 30 days"),
    "pay_ratio": ("薪酬与职级中位数之比", "pay against the band median"),
    "years_since_promotion": ("距上次晋升", "time since the last promotion"),
    "manager_changes_1y": ("近一年更换上级", "manager changes in a year"),
    "commute_km": ("通勤距离", "commute"),
    "level": ("职级", "job level"),
    "project_percent_done": ("项目进度", "project progress"),
}

KINDS: dict[str, _Names] = {
    "topic": TOPIC,
    "sentiment": SENTIMENT,
    "dimension": DIMENSION,
    "metric": METRIC,
    "scorecard": SCORECARD,
    "risk": RISK,
    "progress": PROGRESS,
    "stage": STAGE,
    "fact": FACT,
}

@lru_cache(maxsize=1)
def intent_names() -> _Names:
    """The intents' names from the shipped intent catalog's descriptions."""
    import wendu.scorers  # a bare package: only its folder is wanted

    try:
        path = Path(wendu.scorers.__file__).parent / "intents.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    out: _Names = {}
    for key, spec in (doc.get("intents") or {}).items():
        description = (spec or {}).get("description") or {}
        if description.get("zh") and description.get("en"):
            out[str(key)] = (str(description["zh"]), str(description["en"]))
    return out


def is_chinese(locale: str | None) -> bool:
    """zh, zh-CN, zh-Hans...; every other locale reads English."""
    return not locale or locale.lower().startswith("zh")


def names(kind: str) -> _Names:
    if kind == "intent":
        return intent_names()
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"no labels of kind {kind!r}; kinds: "
                         f"{', '.join(sorted([*KINDS, 'intent']))}") from None


def label(key: Any, kind: str, locale: str | None = "zh-CN") -> str:
    """The display name of `key` in `locale`; the key itself when the catalog has none."""
    if key is None:
        return ""
    found = names(kind).get(str(key))
    if found is None:
        return str(key)
    return found[0] if is_chinese(locale) else found[1]


# What a scorer's factor names are: profile facts, topics, scorecard metrics, intents.
FACTOR_KINDS = {"attrition": "fact", "burnout": "fact", "topics": "topic", "intent": "intent",
                "scorecard": "metric", "training_progress": "fact"}


def factor_label(name: Any, scorer: str | None, locale: str | None = "zh-CN") -> str:
    """The display name of one of a scorer's factors (a course id stays as it is)."""
    kind = FACTOR_KINDS.get(scorer or "")
    return label(name, kind, locale) if kind else str(name)


def catalog(locale: str | None) -> dict[str, dict[str, str]]:
    """Every kind's names in one locale (for the console and API clients)."""
    index = 0 if is_chinese(locale) else 1
    return {kind: {key: pair[index] for key, pair in names(kind).items()}
            for kind in [*KINDS, "intent"]}
