import json
from pathlib import Path

from typer.testing import CliRunner

from wendu.cli.rules import app
from wendu.rules.ruleset import EXAMPLES_DIR

runner = CliRunner()


def test_validate_examples_ok():
    result = runner.invoke(app, ["validate", str(EXAMPLES_DIR)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 rules OK (2 event, 1 schedule)\n"


def test_validate_prints_file_line_col_for_a_misspelled_profile_field(tmp_path, rule):
    path = tmp_path / "overtime.yaml"
    path.write_text(rule(when='["profile.overtime_hour_7d > 20"]'), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}:5:17: error: profile has no field 'overtime_hour_7d'; "
        "did you mean 'overtime_hours_7d'?\n"
    )
    assert "1 error" in result.stderr


def test_validate_never_shows_a_traceback(tmp_path):
    (tmp_path / "broken.yaml").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "tabs.yaml").write_text("id: x\n\tversion: 1\n")
    result = runner.invoke(app, ["validate", str(tmp_path), str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'broken.yaml'}: error: the file is not UTF-8 text",
        f"{tmp_path / 'nope.yaml'}: error: no such file or directory",
        f"{tmp_path / 'tabs.yaml'}:2:1: error: invalid YAML: found character '\\t' that cannot "
        "start any token; indent with spaces, not tabs",
    ]


def test_validate_with_another_templates_folder(tmp_path):
    result = runner.invoke(app, ["validate", str(EXAMPLES_DIR), "--templates", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown template 'overtime_manager'" in result.stdout
    missing = runner.invoke(app, ["validate", str(EXAMPLES_DIR), "--templates", "/no/such/dir"])
    assert missing.exit_code == 1
    assert "the templates folder does not exist" in missing.stderr


def test_validate_an_empty_folder_fails(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "no rules found" in result.stderr


def test_compile_prints_the_plan_as_json():
    result = runner.invoke(app, ["compile", str(EXAMPLES_DIR / "overtime_care.yaml")])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["rule_id"] == "overtime-care"
    assert [s["kind"] for s in plan["steps"]] == ["notify", "notify", "record"]
    assert len(plan["digest"]) == 64
    folder = runner.invoke(app, ["compile", str(EXAMPLES_DIR)])
    assert [p["rule_id"] for p in json.loads(folder.stdout)] == [
        "overtime-care", "satisfaction-checkin", "weekly-attrition-scan"
    ]


def test_compile_refuses_an_invalid_rule(tmp_path, rule):
    path = tmp_path / "r.yaml"
    path.write_text(rule("- wait: soon"), encoding="utf-8")
    result = runner.invoke(app, ["compile", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:9:11: error: 'soon' is not a duration")


def test_schema_prints_the_rule_json_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Wendu rule"
    committed = Path(__file__).resolve().parents[2] / "rules" / "schema" / "rule.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == schema
    groups = runner.invoke(app, ["schema", "--groups"])
    assert groups.exit_code == 0
    assert json.loads(groups.stdout)["title"] == "Wendu rule groups (_groups.yaml)"
