from pathlib import Path

from wendu.rules.ruleset import EXAMPLES_DIR, load_ruleset


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_examples_load_clean_with_their_groups():
    result = load_ruleset([EXAMPLES_DIR])
    assert result.ok and result.problems == []
    assert sorted(p.rule_id for p in result.plans) == [
        "overtime-care", "satisfaction-checkin", "weekly-attrition-scan"
    ]
    assert set(result.sources) == {p.rule_id for p in result.plans}
    assert result.sources["overtime-care"].startswith("# Long hours this week")
    assert list(result.groups) == ["hr_ops"]


def test_duplicate_rule_id_points_at_the_second_file(tmp_path, rule):
    first = write(tmp_path / "a.yaml", rule())
    second = write(tmp_path / "sub" / "b.yml", "# copy\n" + rule())
    result = load_ruleset([tmp_path])
    assert [str(p) for p in result.problems] == [
        f"{second}:2:5: error: duplicate rule id 'test-rule': already defined in {first}"
    ]
    assert [p.rule_id for p in result.plans] == ["test-rule"]


def test_underscore_files_are_not_rules_but_groups_are_read(tmp_path, rule):
    write(tmp_path / "_groups.yaml", "groups:\n  hr_ops: {title: HR ops}\n")
    write(tmp_path / "_draft.yaml", "this: is not a rule\n")
    write(tmp_path / "notes.txt", "not yaml at all: [\n")
    text = rule('- notify: {to: "group:hr_ops", template: overtime_manager}')
    rule_file = write(tmp_path / "r.yaml", text)
    assert load_ruleset([tmp_path]).problems == []
    # A single file still sees the groups declared next to it.
    assert load_ruleset([rule_file]).problems == []
    (tmp_path / "_groups.yaml").unlink()
    (problem,) = load_ruleset([rule_file]).problems
    assert problem.message.startswith("unknown group 'hr_ops'")


def test_bad_groups_file_is_reported(tmp_path):
    groups = write(tmp_path / "_groups.yaml", "groups:\n  HR Ops: {title: x}\n  ok: {titel: y}\n")
    messages = [str(p) for p in load_ruleset([tmp_path]).problems]
    assert messages == [
        f"{groups}:2:3: error: a name must use lowercase letters, digits, '-', '_' or '.', "
        "starting with a letter or digit; got 'HR Ops'",
        f"{groups}:3:3: error: missing required key 'title' in 'ok'",
        f"{groups}:3:8: error: unknown key 'titel'; did you mean 'title'?",
    ]


def test_problems_from_every_file_are_collected(tmp_path, rule):
    write(tmp_path / "a.yaml", rule().replace("version: 1", "version: x"))
    write(tmp_path / "b.yaml", "id: [unclosed\n")
    write(tmp_path / "c.yaml", rule().replace("test-rule", "fine"))
    result = load_ruleset([tmp_path, tmp_path / "missing.yaml"])
    assert [(Path(p.path).name, p.line) for p in result.errors] == [
        ("a.yaml", 2), ("b.yaml", 2), ("missing.yaml", 0)
    ]
    assert [p.rule_id for p in result.plans] == ["fine"]
    assert str(result.problems[-1]).endswith("missing.yaml: error: no such file or directory")
