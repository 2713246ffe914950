"""The audit log in words: what was done (任务：接手), and what changed, field by field
(状态：待处理 → 处理中; 负责人：李娜 → 张伟), instead of action keys and JSON.

The records keep their keys and values as stored (the API gives them so); only the page
says them in the reader's language.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from markupsafe import Markup, escape

ACTIONS: dict[str, tuple[str, str]] = {
    "user.login": ("登录", "signed in"),
    "user.logout": ("退出", "signed out"),
    "user.login_failed": ("登录失败", "sign-in failed"),
    "user.login_throttled": ("登录被暂时阻止", "sign-in throttled"),
    "user.create": ("创建账号", "account created"),
    "user.disable": ("停用账号", "account disabled"),
    "user.set_password": ("设置密码", "password set"),
    "token.create": ("创建 API 令牌", "API token created"),
    "token.revoke": ("吊销 API 令牌", "API token revoked"),
    "feedback.view": ("查看反馈原文", "raw feedback viewed"),
    "rule.upload": ("保存规则", "rule saved"),
    "rule.enable": ("启用规则", "rule enabled"),
    "rule.disable": ("停用规则", "rule disabled"),
    "rule.rollback": ("回滚规则", "rule rolled back"),
    "task.acknowledge": ("接手任务", "task taken on"),
    "task.complete": ("完成任务", "task completed"),
    "task.dismiss": ("驳回任务", "task dismissed"),
    "task.snooze": ("推迟任务", "task snoozed"),
    "task.undo": ("撤销任务操作", "task action undone"),
    "task.delegate": ("转交任务", "task delegated"),
    "task.reassign": ("改派任务", "task reassigned"),
}
FIELDS: dict[str, tuple[str, str]] = {
    "status": ("状态", "status"), "assignee_id": ("负责人", "assignee"),
    "comment": ("备注", "comment"), "snoozed_until": ("推迟到", "snoozed until"),
    "reminders_postponed": ("提醒已顺延", "reminders postponed"),
    "action": ("操作", "action"), "enabled": ("已启用", "enabled"),
    "version": ("版本", "version"), "digest": ("摘要", "digest"), "reason": ("原因", "reason"),
    "username": ("用户名", "username"), "role": ("角色", "role"),
    "employee_id": ("员工", "employee"), "actor_id": ("代表员工", "acting for"),
    "name": ("名称", "name"), "scopes": ("权限", "scopes"), "events": ("事件", "events"),
    "ip": ("IP", "IP"),
}
PEOPLE = ("assignee_id", "employee_id", "actor_id")


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


@pass_context
def audit_action(ctx: Any, action: Any) -> str:
    found = ACTIONS.get(str(action))
    return _pick(found, ctx.get("lang") or "zh-CN") if found else str(action)


@pass_context
def audit_changes(ctx: Any, before: Any, after: Any) -> Markup:
    """Each field a record touched: its name, the value before and after, in words."""
    lang = ctx.get("lang") or "zh-CN"
    env = ctx.environment
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    lines = []
    for key in dict.fromkeys([*before, *after]):
        shown = [_value(ctx, env, key, side[key], lang) for side in (before, after) if key in side]
        if key in before and key in after and before[key] == after[key]:
            shown = shown[:1]
        field = _pick(FIELDS[key], lang) if key in FIELDS else key
        lines.append(escape(f"{field}: ") + escape(" → ".join(shown)))
    return Markup("<br>").join(lines)


def _value(ctx: Any, env: Any, key: str, value: Any, lang: str) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang != "en" else ("yes" if value else "no")
    if key == "status":
        return str(env.filters["status"](ctx, value))
    if key == "role":
        return str(env.filters["status"](ctx, value, "role"))
    if key in PEOPLE:
        return str(env.filters["person"](ctx, value))
    if key.endswith(("_until", "_at")):
        return str(env.filters["when"](ctx, value))
    if key == "action":
        return audit_action(ctx, f"task.{value}")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


AUDIT_FILTERS = {"audit_action": audit_action, "audit_changes": audit_changes}
