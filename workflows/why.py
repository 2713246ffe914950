"""The "why" line of a message or task: the rule version, the conditions that matched, their
values, in the reader's language. Pure: the workflow computes it from its own input."""

from __future__ import annotations

import json

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from wendu.rules.plan import Plan
    from wendu.workflows.io import Firing

# The words around the rule's own names and expressions, per language of the message.
# A rule is named by its title in that language (its id where it has none): the id is a key
# for HR's tools, not a name people read.
_WHY_WORDS = {
    "en": ('rule "{id}" v{version}', "when ", " and ", ", ", "; "),
    "zh": ("规则「{id}」（第 {version} 版）", "条件：", " 且 ", "，", "；"),
}


def explain(plan: Plan, firing: Firing, lang: str = "en") -> str:
    """Why a message was sent: the rule version, the conditions that matched, their values."""
    rule, when, both, comma, sep = _WHY_WORDS[lang]
    title = (plan.title.zh if lang == "zh" else plan.title.en) or plan.rule_id
    parts = [rule.format(id=title, version=plan.version)]
    if firing.matched:
        parts.append(when + both.join(firing.matched))
    if firing.values:
        shown = (
            f"{k} = {json.dumps(v, ensure_ascii=False, default=str)}"
            for k, v in firing.values.items()
        )
        parts.append(comma.join(shown))
    return sep.join(parts)
