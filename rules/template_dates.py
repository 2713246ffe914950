"""Dates a template prints raw: `{{ task.due_at }}` shows a reader "2026-12-16T11:32:23+00:00".

The store and the workflows keep instants in UTC and ISO 8601; a person reads them in their own
zone and words through `| local_datetime` or `| local_date` (wendu/localize.py). The check is a
warning, not an error: the template still renders, but the author should hear of it at
`wendu rules validate`, before an employee does.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from jinja2 import nodes
from jinja2.exceptions import TemplateError

from wendu.localize import DATETIME_FILTERS
from wendu.rules.catalog import EMPLOYEE_FIELDS, ENVELOPE_FIELDS, EVENT_TYPES, PROFILE_FIELDS
from wendu.rules.expressions import ENV, Problem
from wendu.rules.exprtokens import attribute_chain

# Filters that turn a date into something else a reader may see on purpose (a week number).
FORMATTING = DATETIME_FILTERS | {"iso_week"}


def _dated(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, date)  # datetime is a date too


@lru_cache(maxsize=1)
def date_fields() -> dict[str, frozenset[str]]:
    """root name -> its fields that hold a date or a time."""
    event = {name for e in EVENT_TYPES.values() for name, spec in e.fields.items()
             if _dated(spec.type)}
    event |= {name for name, spec in ENVELOPE_FIELDS.items() if _dated(spec.type)}
    return {
        "event": frozenset(event),
        "profile": frozenset(n for n, (kind, _, _) in PROFILE_FIELDS.items() if _dated(kind)),
        "employee": frozenset(n for n, spec in EMPLOYEE_FIELDS.items() if _dated(spec.type)),
        "task": frozenset({"due_at"}),
    }


def _raw_date(node: nodes.Node) -> str | None:
    """`root.field` when the output prints a date field without a formatting filter."""
    while isinstance(node, nodes.Filter):
        if node.name in FORMATTING:
            return None
        if node.node is None:
            return None
        node = node.node
    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return None
    chain = attribute_chain(node)
    if not chain or len(chain) != 2:
        return None
    root, field = chain
    return f"{root}.{field}" if field in date_fields().get(root, ()) else None


@lru_cache(maxsize=1024)
def raw_dates(src: str) -> tuple[Problem, ...]:
    """A warning per `{{ ... }}` that prints a date or time as stored."""
    try:
        ast = ENV.parse(src)
    except TemplateError:
        return ()  # the template check reports the syntax error
    found = []
    for output in ast.find_all(nodes.Output):
        for node in output.nodes:
            name = _raw_date(node)
            if name is not None:
                found.append(Problem(
                    f"{{{{ {name} }}}} prints the date or time as stored (e.g. "
                    f"2026-12-16T11:32:23+00:00, in UTC); write {{{{ {name} | local_datetime }}}}"
                    f" or {{{{ {name} | local_date }}}} to show it in the reader's time zone and "
                    "language", node.lineno, 1))
    return tuple(found)
