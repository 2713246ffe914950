"""Message categories: what a person may mute or read on a channel of their choice.

A notify step may name its category (`category: compliance`); otherwise its template decides
(the shipped ones are listed here; a template named `compliance_*` is compliance, `guide_*` a
guide), and every message of a task is `tasks`. Tasks and compliance are critical: someone
has to act on them, so nobody can mute them (wendu.preferences).
"""

from __future__ import annotations

from dataclasses import dataclass

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
