"""The thresholds `wendu models fairness` measures at are read from the compiled rules."""

from __future__ import annotations

from wendu.demo.library import LIBRARY
from wendu.rule_thresholds import thresholds
from wendu.rules.ruleset import load_ruleset


def test_thresholds_set_before_or_written_in_the_condition(tmp_path):
    scan = (LIBRARY / "attrition_scan.yaml").read_text(encoding="utf-8")
    inline = scan.replace("id: attrition-scan-weekly", "id: attrition-scan-inline").replace(
        '"risk.value >= threshold"', '"risk.value > 0.75"')
    (tmp_path / "scan.yaml").write_text(scan, encoding="utf-8")
    (tmp_path / "inline.yaml").write_text(inline, encoding="utf-8")
    loaded = load_ruleset([tmp_path])
    assert loaded.ok, loaded.errors
    assert sorted(thresholds(loaded.plans, "attrition")) == [
        ("attrition-scan-inline", 0.75), ("attrition-scan-weekly", 0.6)]
    assert thresholds(loaded.plans, "burnout") == []
