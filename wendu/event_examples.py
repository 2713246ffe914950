"""One example event of every catalog type, as a producer would send it.

They are the request examples of `POST /api/v1/events` in openapi.json (so /docs and /redoc
show a body to start from for each type) and are checked against the event models in the
tests: an example that stopped validating would be a lie in the docs.
"""

from __future__ import annotations

from typing import Any

from wendu.rules.catalog import EVENT_TYPES

_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    # type: (employee id, data)
    "employee.hired": ("E1042", {
        "name": "王芳", "email": "wang.fang@example.com", "manager_id": "E1007",
        "hrbp_id": "E1001", "department": "研发部", "title": "后端工程师",
        "hired_on": "2026-03-02", "work_city": "上海", "locale": "zh-CN",
        "timezone": "Asia/Shanghai", "groups": ["engineering"], "wecom_userid": "wangfang",
        "preferred_channels": ["wecom", "email"], "monthly_pay": 28000,
        "pay_band_median": 30000, "commute_km": 12.5, "level": 3}),
    "employee.updated": ("E1042", {"manager_id": "E1012", "title": "高级后端工程师",
                                   "level": 4, "last_promoted_on": "2026-09-01"}),
    "employee.left": ("E1042", {"left_on": "2026-11-30", "reason": "voluntary"}),
    "attendance.day_closed": ("E1042", {
        "day": "2026-06-15", "clock_in": "2026-06-15T09:05:00+08:00",
        "clock_out": "2026-06-15T22:40:00+08:00", "overtime_hours": 4.5, "weekend": False}),
    "leave.taken": ("E1042", {"day": "2026-06-19", "days": 0.5, "kind": "annual"}),
    "project.progress": ("E1042", {"project_id": "P-301", "project_name": "薪酬系统迁移",
                                   "percent_done": 65}),
    "survey.response": ("E1042", {"survey_id": "pulse-2026-06", "satisfaction": 2.5}),
    "feedback.submitted": ("E1042", {"text": "最近加班太多，家里顾不上。", "channel": "1on1"}),
    "chat.message": ("E1042", {"text": "公积金怎么提取？", "channel": "wecom"}),
    "search.query": ("E1042", {"text": "离职流程"}),
    "performance.review": ("E1042", {
        "period": "2026H1", "scores": {"delivery": 4, "collaboration": 3.5, "growth": 4},
        "overall": 4, "reviewer_id": "E1007"}),
    "training.completed": ("E1042", {"course_id": "C-TIME-101", "course_name": "时间管理",
                                     "rating": 4.5}),
    "task.completed": ("E1042", {"task_id": "T-8f3a1c", "outcome": "completed"}),
}


def event_example(event_type: str) -> dict[str, Any]:
    """A whole event of `event_type`: id, type, employee, time and data."""
    employee_id, data = _DATA[event_type]
    return {"id": f"{event_type.replace('.', '-')}-0001", "type": event_type,
            "employee_id": employee_id, "occurred_at": "2026-06-15T22:45:00+08:00",
            "data": data}


def request_examples() -> dict[str, dict[str, Any]]:
    """OpenAPI named examples of the events body: a batch, then one event of each type."""
    examples: dict[str, dict[str, Any]] = {
        "batch": {"summary": "A batch (up to 1,000 events of any types)",
                  "value": {"events": [event_example("attendance.day_closed"),
                                       event_example("survey.response")]}},
    }
    for name, et in EVENT_TYPES.items():
        examples[name] = {"summary": name, "description": et.doc, "value": event_example(name)}
    return examples
