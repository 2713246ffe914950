"""What a message's reader sees of the task and the rule: the task's title in their language,
and for the employee a rule is about, the rule's name rather than its conditions."""

from __future__ import annotations

from wendu.activities.notify_keys import template_context
from wendu.activities.people import Person
from wendu.workflows.io import NotifyInput

RULE = {"id": "overtime-care-week", "version": 1,
        "title": {"zh": "智能考勤预警", "en": "Overtime care"}}
WHY = 'rule "Overtime care" v1; when profile.overtime_hours_7d > 20'
WHY_ZH = "规则「智能考勤预警」（第 1 版）；条件：profile.overtime_hours_7d > 20"


def context_for(person: Person, task: dict) -> dict:
    inp = NotifyInput(workflow_id="w", step_id="s", rule_id="r", template="task_assigned",
                      channels=["inapp"], context={"rule": RULE},
                      extra={"task": task, "why": WHY, "why_zh": WHY_ZH})
    return template_context(inp, person)


def test_each_reader_gets_the_task_title_in_their_language():
    titles = {"zh-CN": "留任沟通：张伟", "en": "Retention conversation: 张伟"}
    task = {"id": "T1", "title": titles["zh-CN"], "titles": titles}
    zh = context_for(Person("M1", "李娜", "zh-CN", "manager"), task)
    en = context_for(Person("M2", "Mary", "en", "manager"), task)
    assert (zh["task"]["title"], en["task"]["title"]) == (titles["zh-CN"], titles["en"])
    # A task stored with both languages in one text reads in one of them.
    old = context_for(Person("M2", "Mary", "en", "manager"),
                      {"id": "T2", "title": "Retention conversation / 留任沟通: 张伟"})
    assert old["task"]["title"] == "Retention conversation: 张伟"


def test_the_employee_reads_the_rules_name_and_the_manager_its_conditions():
    employee = context_for(Person("E1", "张伟", "zh-CN", "employee"), {})
    manager = context_for(Person("M1", "李娜", "zh-CN", "manager"), {})
    english = context_for(Person("E2", "David", "en", "employee"), {})
    assert employee["why"] == "「智能考勤预警」规则"
    assert manager["why"] == WHY_ZH
    assert english["why"] == 'the "Overtime care" rule'
