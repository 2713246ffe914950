"""The JSON Schemas an editor checks rule files and `_groups.yaml` with: they list exactly the
catalog's names, accept every shipped rule, refuse what the compiler would refuse by name, and
show the defaults the README documents."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from wendu.rule_schema import groups_schema, rule_schema
from wendu.rules.catalog import CHANNELS, EVENT_TYPES
from wendu.rules.compiler import DEFAULT_SCORERS
from wendu.rules.ruleset import GROUPS_FILES
from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR, TemplateCatalog

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted(p for folder in ("rules/library", "rules/examples")
                    for p in (ROOT / folder).glob("*.yaml") if p.name not in GROUPS_FILES)
OVERTIME = (ROOT / "rules" / "examples" / "overtime_care.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def schema() -> dict:
    return rule_schema()


@pytest.fixture(scope="module")
def validator(schema):
    return jsonschema_rs.Draft202012Validator(schema)


def problems(validator, data) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in validator.iter_errors(data)]


def test_the_enums_are_the_catalog(schema):
    defs = schema["$defs"]
    for model in ("EventTriggerDoc", "DoneWhenBody", "WaitForBody"):
        assert defs[model]["properties"]["event"]["enum"] == list(EVENT_TYPES)
    notify = defs["NotifyBody"]["properties"]
    assert notify["channels"]["items"]["enum"] == list(CHANNELS)
    on_disk = sorted(d.name for d in DEFAULT_TEMPLATES_DIR.iterdir()
                     if d.is_dir() and any(d.glob("*.j2")))
    assert notify["template"]["anyOf"][0]["enum"] == on_disk
    assert defs["AssignTaskBody"]["properties"]["template"]["enum"] == on_disk
    # The compiler's scorers, which test_scorer_names keeps equal to those the worker runs.
    assert defs["ScoreStepDoc"]["properties"]["score"]["enum"] == sorted(DEFAULT_SCORERS)
    assert "attendance.day_closed.overtime_hours" in defs["ImpactDoc"]["properties"][
        "metric"]["enum"]


def test_a_deployments_own_templates_are_its_schemas(tmp_path):
    (tmp_path / "welcome_pack").mkdir()
    (tmp_path / "welcome_pack" / "zh-CN.j2").write_text("{% block body %}欢迎{% endblock %}")
    schema = rule_schema(TemplateCatalog(tmp_path))
    assert schema["$defs"]["NotifyBody"]["properties"]["template"]["anyOf"][0]["enum"] == [
        "welcome_pack"]


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_rule_is_valid_against_the_schema(validator, path):
    assert problems(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_an_unknown_channel_event_type_template_or_scorer_is_refused(validator, schema):
    schema_defs = schema["$defs"]
    rule = yaml.safe_load(OVERTIME)
    assert problems(validator, rule) == []
    notify = next(s for s in rule["steps"] if "notify" in s)["notify"]
    notify["channels"] = ["inapp", "wechat"]
    found = problems(validator, rule)
    assert len(found) == 1 and "wechat" in found[0], found
    # Against the notify step's own schema the editor points at the very item.
    step = jsonschema_rs.Draft202012Validator({"$ref": "#/$defs/NotifyBody", "$defs": schema_defs})
    (only,) = problems(step, notify)
    assert only.startswith('channels/1: "wechat" is not one of "inapp"'), only

    for key, path, bad in (("trigger", ("trigger", "event"), "attendance.day_close"),
                           ("template", ("template",), "overtime_mgr"),
                           ("to", ("to",), "supervisor")):
        rule = yaml.safe_load(OVERTIME)
        target = rule if key == "trigger" else next(
            s for s in rule["steps"] if "notify" in s)["notify"]
        *parents, last = path
        for part in parents:
            target = target[part]
        target[last] = bad
        assert problems(validator, rule), key
    rule = yaml.safe_load(OVERTIME)
    rule["steps"].insert(0, {"score": "mood"})
    assert problems(validator, rule)
    rule["steps"][0] = {"score": "burnout"}
    assert problems(validator, rule) == []


def test_a_group_recipient_is_accepted_by_name_shape(validator):
    rule = yaml.safe_load(OVERTIME)
    next(s for s in rule["steps"] if "notify" in s)["notify"]["to"] = ["hrbp", "group:hr_care"]
    assert problems(validator, rule) == []
    next(s for s in rule["steps"] if "notify" in s)["notify"]["to"] = "group:HR Care"
    assert problems(validator, rule)


def test_the_groups_schema_validates_the_shipped_groups_files():
    validator = jsonschema_rs.Draft202012Validator(groups_schema())
    for folder in ("rules/library", "rules/examples"):
        data = yaml.safe_load((ROOT / folder / "_groups.yaml").read_text(encoding="utf-8"))
        assert data["groups"]
        assert problems(validator, data) == [], folder
    bad = {"groups": {"HR Ops": {"title": "x"}, "ok": {"titel": "y"}}}
    found = problems(validator, bad)
    assert any("HR Ops" in p for p in found) and any("titel" in p for p in found), found
    assert problems(validator, {"group": {}})


def test_defaults_are_the_ones_the_readme_documents(schema):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    def documented(variable: str) -> str:
        row = re.search(rf"^\| `{variable}` \|.*\| `?([^|`]+)`? \|$", readme, re.M)
        assert row, f"{variable} is not in the README's settings table"
        return row.group(1)

    assert schema["properties"]["max_age"]["default"] == documented("WENDU_MAX_EVENT_AGE")
    policy = schema["$defs"]["PolicyDoc"]["properties"]
    assert policy["quiet_hours"]["default"] == documented("WENDU_QUIET_HOURS")
    assert str(policy["daily_cap"]["default"]) == documented("WENDU_DAILY_CAP")
    notify = schema["$defs"]["NotifyBody"]["properties"]
    assert notify["channels"]["default"] == ["inapp"]
    # Left unset, these follow the template or the trigger: no made-up null default.
    assert "default" not in notify["category"]
    assert "default" not in schema["properties"]["impact"]
