"""A task's title in the reader's language.

A rule words a task's title once for everyone or once per language
(`title: {zh: 留任沟通：{{ employee.name }}, en: "Retention conversation: ..."}`); the task keeps
both (`Task.titles`, by locale) and each reader sees theirs: the assignee's message, the
console's lists and page, the API's `title` in the requested locale.

Tasks stored before titles were per language carry one text, sometimes both languages glued
("Retention conversation / 留任沟通: 张伟"); those are split at the slash when one side is
Chinese and the other is not, and shown whole otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from wendu.labels import is_chinese

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def locale_key(locale: str | None) -> str:
    return "zh-CN" if is_chinese(locale) else "en"


def title_in(title: str, titles: dict[str, Any] | None, locale: str | None) -> str:
    """`title` (the Chinese or only one) as a reader of `locale` should see it."""
    if titles:
        return str(titles.get(locale_key(locale)) or title)
    return _unglued(title or "", is_chinese(locale))


def _unglued(title: str, chinese: bool) -> str:
    parts = title.split(" / ")
    if len(parts) != 2:
        return title
    first, second = parts
    # "Retention conversation / 留任沟通: 张伟": the ": 张伟" belongs to both sides.
    suffix = ""
    for sep in (": ", "："):
        if sep in second and sep not in first:
            second, rest = second.split(sep, 1)
            suffix = sep + rest
            break
    zh = [side for side in (first, second) if _CJK.search(side)]
    other = [side for side in (first, second) if not _CJK.search(side)]
    if len(zh) != 1 or len(other) != 1:
        return title
    return (zh[0] if chinese else other[0]) + suffix
