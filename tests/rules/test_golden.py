"""The compiled plans of the shipped examples, compared with committed JSON.

Run with WENDU_UPDATE_GOLDEN=1 to rewrite the files after an intended change, then review the
diff: a changed plan changes what running workflows receive.
"""

import json
import os
from pathlib import Path

import pytest

from wendu.cli.rules import groups_schema_text, schema_text
from wendu.rules.ruleset import load_ruleset

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = ["overtime_care", "satisfaction_checkin", "weekly_attrition_scan"]
UPDATE = os.environ.get("WENDU_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def plans():
    # Relative paths, so `at` in the plans does not depend on where the repo is checked out.
    cwd = os.getcwd()
    os.chdir(Path(__file__).resolve().parents[2])
    try:
        result = load_ruleset(["rules/examples"])
    finally:
        os.chdir(cwd)
    assert result.problems == []
    return {Path(result.files[plan.rule_id]).stem: plan for plan in result.plans}


def compare(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with WENDU_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path} is stale; see the module docstring"


def test_examples_are_exactly_the_expected_ones(plans):
    assert sorted(plans) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_compiled_plan_matches_golden(plans, name):
    data = plans[name].model_dump(mode="json", by_alias=True, exclude={"source"})
    compare(GOLDEN / f"{name}.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def test_committed_json_schemas_are_current():
    schemas = Path(__file__).resolve().parents[2] / "rules" / "schema"
    compare(schemas / "rule.schema.json", schema_text())
    compare(schemas / "groups.schema.json", groups_schema_text())
