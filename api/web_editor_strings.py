"""The zh-CN/en strings of the rule editor: a new rule, the dry run's conditions, disabling
with a reason. Kept beside web_ui.STRINGS (which merges them), one table per feature."""

from __future__ import annotations

EDITOR_STRINGS: dict[str, tuple[str, str]] = {
    "new_rule": ("新建规则", "New rule"),
    "start_from": ("从哪条规则开始", "Start from"),
    "blank_rule": ("空白规则", "A blank rule"),
    "start": ("开始", "Start"),
    "version_hint": ("内容有改动时，保存前请把 version 加 1。",
                     "Saving changed content needs a higher `version:`."),
    "preview_employee": ("预览的员工（工号），按现在运行一次计划任务",
                         "Preview on employee (id), as if the schedule ran now"),
    "conditions": ("逐条条件", "Condition by condition"),
    "condition_held": ("成立", "holds"),
    "condition_failed": ("不成立", "does not hold"),
    "condition_error": ("无法计算", "could not be evaluated"),
    "already_fired": ("这个去重键已经触发过：真实事件到来时不会再做任何事。",
                      "This dedupe key has fired already: a real event would do nothing."),
    "disable_reason": ("停用原因（会写入审计日志）", "Why disable it? (kept in the audit log)"),
    "confirm_disable": ("确认停用", "Disable the rule"),
    "disable_needs_reason": ("停用规则需要填写原因。", "Disabling a rule needs a reason."),
    "menu": ("菜单", "Menu"),
}
