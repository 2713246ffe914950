"""The JSON Schemas of rule files and of `_groups.yaml`, with the catalog's names in them.

The authoring models (rules.doc) check shape only; an editor reading these schemas
(yaml-language-server, VS Code) also completes and flags the names the compiler checks: event
types, channels, templates, scorers, roles, categories and impact metrics, each listed from the
code that defines it (the event catalog, the template folders, the scorer names the compiler
knows), so a new event type or template is in the schema the next time it is generated. A
default that is a setting's (`max_age`, quiet hours, the daily cap) is that setting's default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wendu.rules.catalog import CHANNELS, EVENT_TYPES, GROUP_PREFIX, ROLES, numeric_fields
from wendu.rules.categories import CATEGORIES, TASKS
from wendu.rules.compiler import DEFAULT_SCORERS
from wendu.rules.doc import rule_json_schema as shape_schema
from wendu.rules.ruleset import GroupsDoc
from wendu.rules.templates_catalog import TemplateCatalog
from wendu.settings import Settings

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
GROUP_NAME = r"[a-z0-9][a-z0-9\-_.]*"


def catalog_names(templates: TemplateCatalog | None = None,
                  scorers: Iterable[str] = DEFAULT_SCORERS) -> dict[str, list[str]]:
    """The names a rule may use, per kind, as the schema lists them."""
    catalog = templates if templates is not None else TemplateCatalog()
    return {
        "event_types": list(EVENT_TYPES),
        "channels": list(CHANNELS),
        "templates": catalog.names(),
        "scorers": sorted(scorers),
        "roles": list(ROLES),
        # Task messages are `tasks` by themselves; a notify step names one of the others.
        "categories": [name for name in CATEGORIES if name != TASKS],
        "impact_metrics": [f"{name}.{field}" for name, et in EVENT_TYPES.items()
                           for field in numeric_fields(et)],
    }


def rule_schema(templates: TemplateCatalog | None = None,
                scorers: Iterable[str] = DEFAULT_SCORERS) -> dict[str, Any]:
    """JSON Schema of a rule file, for the templates of `templates` (default: the shipped
    ones) and the given scorers."""
    names = catalog_names(templates, scorers)
    schema = shape_schema()
    defs, top = schema["$defs"], schema["properties"]
    events = _enum(names["event_types"], {n: et.doc for n, et in EVENT_TYPES.items()})
    for model in ("EventTriggerDoc", "DoneWhenBody", "WaitForBody"):
        _string(defs[model]["properties"]["event"]).update(events)
    notify = defs["NotifyBody"]["properties"]
    notify["channels"]["items"].update(_enum(names["channels"], CHANNELS))
    notify["channels"]["minItems"] = 1
    _string(notify["template"]).update(_enum(names["templates"]))
    _string(notify["category"]).update(_enum(names["categories"]))
    del notify["category"]["default"]  # none written: the template's category
    task = defs["AssignTaskBody"]["properties"]
    _string(task["template"]).update(_enum(names["templates"]))
    defs["ScoreStepDoc"]["properties"]["score"].update(_enum(names["scorers"]))
    defs["ImpactDoc"]["properties"]["metric"].update(_enum(names["impact_metrics"]))
    roles = {"anyOf": [_enum(names["roles"], ROLES),
                       {"pattern": f"^{GROUP_PREFIX}{GROUP_NAME}$",
                        "description": "A group declared in _groups.yaml"}]}
    for holder, key in ((notify, "to"), (task, "to"), (task, "escalate_to")):
        for node in _strings(holder[key]):
            node.update(roles)
    # Unset means the setting, whose default the README documents: show that value.
    defaults = Settings.model_fields
    top["max_age"]["default"] = defaults["max_event_age"].default
    policy = defs["PolicyDoc"]["properties"]
    policy["quiet_hours"]["default"] = defaults["quiet_hours"].default
    policy["daily_cap"]["default"] = defaults["daily_cap"].default
    for key in ("policy", "impact"):  # unset: the settings' policy, the trigger's metric
        del top[key]["default"]
    return {"$schema": SCHEMA_DIALECT, **schema, "title": "Wendu rule"}


def groups_schema() -> dict[str, Any]:
    """JSON Schema of `_groups.yaml`: the groups a rule set's rules address as group:<name>."""
    schema = GroupsDoc.model_json_schema(by_alias=True)
    groups = schema["properties"]["groups"]
    groups.update({
        "description": "Group name -> its title and description; rules address it as "
                       f"{GROUP_PREFIX}<name>, its members are the employees whose `groups` "
                       "name it",
        "propertyNames": {"pattern": f"^{GROUP_NAME}$"},
        "additionalProperties": False,
    })
    return {"$schema": SCHEMA_DIALECT, **schema, "title": "Wendu rule groups (_groups.yaml)"}


def _enum(values: list[str], docs: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"enum": list(values)}
    if docs:
        # Shown beside each name by editors that read it (VS Code, yaml-language-server).
        out["enumDescriptions"] = [docs.get(v, "") for v in values]
    return out


def _strings(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The plain string schemas in `node`: itself, its anyOf branches, their array items."""
    found: list[dict[str, Any]] = []
    if node.get("type") == "string":
        found.append(node)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        found.extend(_strings(node["items"]))
    for branch in node.get("anyOf", []):
        found.extend(_strings(branch))
    return found


def _string(node: dict[str, Any]) -> dict[str, Any]:
    """The one plain string schema in `node`; a change of the models' shape fails here."""
    (found,) = _strings(node)
    return found
