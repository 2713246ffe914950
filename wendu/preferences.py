"""Notification preferences: what a person hears about, and where.

Messages fall into categories (care, guides, learning, ...). Each person may mute a category
of non-critical messages or pick the channel they read it on, as Novu and Knock let
subscribers do; a channel picked replaces the rule's channels for that person. Task messages
(assignments, reminders, escalations) and compliance messages are critical: they cannot be
muted, since someone must act on them, though their channel may be picked.

A message's category follows its template (the shipped ones are listed below; a template
named `compliance_*` is compliance), or `tasks` for every message of a task. The notifier
asks `route` per recipient; a muted message is neither sent nor counted toward the daily cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wendu.store.models_preferences import NotificationPreference

TASKS = "tasks"
COMPLIANCE = "compliance"
OTHER = "other"


@dataclass(frozen=True)
class Category:
    name: str
    zh: str
    en: str
    critical: bool = False


CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category(TASKS, "待办任务（分配、提醒、升级）", "Tasks (assigned, reminders, escalations)",
             critical=True),
    Category(COMPLIANCE, "合规事项", "Compliance", critical=True),
    Category("care", "关怀与加班提醒", "Care and overtime"),
    Category("guides", "办事指南", "How-to guides"),
    Category("learning", "学习与培训", "Learning and training"),
    Category("performance", "绩效结果", "Performance results"),
    Category("retention", "留任与团队动态", "Retention and team signals"),
    Category(OTHER, "其他通知", "Other notices"),
)}

TEMPLATE_CATEGORIES = {
    "care_overtime_employee": "care", "care_overtime_manager": "care", "overtime_care": "care",
    "overtime_manager": "care", "newhire_checkin": "care", "checkin_dismissed": "care",
    "course_assigned": "learning", "course_manager_note": "learning",
    "course_reminder": "learning", "review_training_todo": "learning",
    "course_overdue_hr": COMPLIANCE,  # a required course overdue: HR must follow it up
    "scorecard_result": "performance",
    "resignation_signal": "retention", "retention_talk": "retention",
}


def category_of(template: str, *, task: bool = False) -> str:
    if task:
        return TASKS
    if template.startswith("compliance_"):
        return COMPLIANCE
    if template.startswith("guide_"):
        return "guides"
    return TEMPLATE_CATEGORIES.get(template, OTHER)


@dataclass(frozen=True)
class Choice:
    muted: bool = False
    channel: str | None = None


def choices(session: Session, employee_ids: list[str], category: str) -> dict[str, Choice]:
    """What each of these people chose for `category` (only those who changed something)."""
    if not employee_ids:
        return {}
    rows = session.execute(
        select(NotificationPreference.employee_id, NotificationPreference.muted,
               NotificationPreference.channel)
        .where(NotificationPreference.category == category,
               NotificationPreference.employee_id.in_(employee_ids)))
    return {eid: Choice(bool(muted), channel) for eid, muted, channel in rows}


def route(channels: list[str], choice: Choice | None, category: str,
          usable: set[str]) -> list[str]:
    """The channels a message of `category` goes to for one person: none when they muted a
    non-critical category, their picked channel (if this worker has it) instead of the rule's,
    else the rule's."""
    if choice is None:
        return channels
    if choice.muted and not CATEGORIES.get(category, CATEGORIES[OTHER]).critical:
        return []
    if choice.channel and choice.channel in usable:
        return [choice.channel]
    return channels
