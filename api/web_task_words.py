"""Task refusals in the reader's language, for the console.

The workflow and the API refuse a task action in English (`task T1 is already completed`,
`dismiss needs a reason`): what API clients and the logs read. The console shows the same
refusal to a person, so it says it in their language; a refusal not listed here is shown as
it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from wendu.api.web_local import LOCAL_STRINGS

_ACTIONS = {"acknowledge": ("接手", "acknowledge"), "complete": ("完成", "complete"),
            "dismiss": ("关闭", "dismiss"), "delegate": ("转交", "delegate"),
            "reassign": ("改派", "reassign"), "snooze": ("推迟", "snooze"),
            "undo": ("撤销", "undo")}


def _status(word: str) -> str:
    return LOCAL_STRINGS.get(f"st_task_{word}", (word, word))[0]


def _action(word: str) -> str:
    return _ACTIONS.get(word, (word, word))[0]


_ZH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"task \S+ is already (\w+)$"), lambda m: f"这项任务已处于「{_status(m[1])}」状态"),
    (re.compile(r"task \S+ is finished$"), lambda m: "这项任务已经结束"),
    (re.compile(r"^no task "), lambda m: "找不到这项任务"),
    (re.compile(r"task \S+ is in progress already"), lambda m: "这项任务已在处理中"),
    (re.compile(r"^dismiss needs a reason"), lambda m: "关闭任务需要填写原因"),
    (re.compile(r"^(\w+) needs a comment"), lambda m: f"{_action(m[1])}任务需要填写说明"),
    (re.compile(r"^(\w+) needs to_id"), lambda m: f"{_action(m[1])}任务需要选择接手的人"),
    (re.compile(r"^to_id: task \S+ is \S+'s already"), lambda m: "这项任务已经是此人负责的"),
    (re.compile(r"is not assigned task"), lambda m: "这项任务不是分配给你的"),
    (re.compile(r"the assignee, (\w+) task"), lambda m: f"只有负责人可以{_action(m[1])}这项任务"),
    (re.compile(r"^only the assignee snoozes"), lambda m: "只有负责人可以推迟这项任务"),
    (re.compile(r"^only HR reassigns"), lambda m: "只有 HR 可以改派任务；负责人可以转交"),
    (re.compile(r"^only \S+ undoes their (\w+)"),
     lambda m: f"只有执行{_action(m[1])}的人可以撤销"),
    (re.compile(r"nothing to undo"), lambda m: "没有可撤销的操作：操作只能在一分钟内由本人撤销"),
    (re.compile(r"being created"), lambda m: "任务正在创建，请稍后再试"),
    (re.compile(r"did not answer"), lambda m: "工作流引擎没有响应，请重试"),
    (re.compile(r"needs an account linked to an employee"),
     lambda m: "操作任务需要一个关联到员工的账号"),
    (re.compile(r"this task cannot be snoozed"), lambda m: "这项任务不能推迟"),
    (re.compile(r"has passed$"), lambda m: "推迟到的时间已经过去"),
]


def refusal(detail: object, lang: str) -> str:
    """A task refusal as the console shows it to a reader of `lang`."""
    text = str(detail)
    if lang == "en":
        return text
    for pattern, words in _ZH:
        found = pattern.search(text)
        if found:
            return words(found)
    return text
