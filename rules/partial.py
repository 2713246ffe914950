"""One pass finds every problem: a rule whose shape is wrong is still compiled, as far as it
can be, so `wendu rules validate` names the missing `id` and the misspelt fact in one run.

When the authoring model refuses a file (a required key missing, an unknown key, a step of
the wrong shape), the offending parts are set aside: a missing required key gets a neutral
stand-in, a broken step becomes a step that checks nothing (so later steps keep their index
and position), an unknown or broken optional key is dropped. The compiler then checks what is
left against the catalog, the templates and the expression rules, and its problems join the
shape problems. Problems caused by a stand-in itself are recognised by a marker and dropped.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from wendu.rules.doc import STEP_KINDS, RuleDoc

# In every stand-in that could show up in a message, so such a message is dropped.
MARK = "\u2063(stand-in)"
_STAND_IN_STEP = {"record": {"metric": "stand_in"}}
_STAND_INS: dict[str, Any] = {
    "id": "stand-in",
    "version": 1,
    "title": "",
    "trigger": {"event": MARK},
    "dedupe": "{{ employee.id }}",
    "steps": [_STAND_IN_STEP],
}
_STEP_LISTS = ("steps", "then", "else", "on_timeout")
_TAGS = {f"{kind}_step" for kind in STEP_KINDS} | {"event_trigger", "schedule_trigger"}
_ROUNDS = 8


def repaired_doc(data: Any) -> RuleDoc | None:
    """The rule with its refused parts set aside, or None when nothing useful is left."""
    if not isinstance(data, dict):
        return None
    data = copy.deepcopy(data)
    for _ in range(_ROUNDS):
        try:
            return RuleDoc.model_validate(data)
        except ValidationError as exc:
            if not all([_set_aside(data, err) for err in exc.errors()]):
                return None
    return None


def _set_aside(data: dict[str, Any], err: Any) -> bool:
    loc = [part for part in err["loc"] if part not in _TAGS and part != "[key]"]
    if not loc:
        return False
    top = loc[0]
    # The innermost step holding the problem becomes a stand-in step.
    for i in range(len(loc) - 1, 0, -1):
        if isinstance(loc[i], int) and loc[i - 1] in _STEP_LISTS:
            container = _at(data, loc[:i])
            if isinstance(container, list) and loc[i] < len(container):
                container[loc[i]] = copy.deepcopy(_STAND_IN_STEP)
                return True
    if top == "when" and len(loc) > 1 and isinstance(loc[1], int):
        when = data.get("when")
        if isinstance(when, list) and loc[1] < len(when):
            when[loc[1]] = "true"
            return True
    if top in _STAND_INS:
        data[top] = copy.deepcopy(_STAND_INS[top])
    else:
        data.pop(top, None)
    return True


def _at(data: Any, loc: list[Any]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def from_stand_in(message: str) -> bool:
    return MARK in message
