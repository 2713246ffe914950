"""What `wendu rules test` prints, and the JUnit XML CI systems read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from wendu.ruletest.coverage import all_steps
from wendu.ruletest.runner import RunResult


def failure_lines(result: RunResult) -> list[str]:
    lines = [str(p) for p in result.problems]
    for case in result.cases:
        if case.error:
            lines.append(case.error)
        for failure in case.failures:
            lines.append(f"{failure}  [{case.name}]")
    return lines


def summary(result: RunResult) -> str:
    passed = sum(c.passed for c in result.cases)
    failed = len(result.cases) - passed
    seconds = sum(c.seconds for c in result.cases)
    text = f"{passed} passed, {failed} failed in {seconds:.1f}s"
    if result.problems:
        count = len(result.problems)
        text += f"; {count} file problem{'s' if count != 1 else ''}"
    return text


def coverage_lines(result: RunResult) -> list[str]:
    """Rules no test names, and the steps and branches of tested rules no case reached."""
    if not result.coverage:
        return []
    covs = sorted(result.coverage.values(), key=lambda c: c.plan.rule_id)
    tested = [c for c in covs if c.tested]
    steps = sum(len(list(all_steps(c.plan.steps))) for c in tested)
    reached = steps - sum(len(c.missing_steps()) for c in tested)
    lines = [f"coverage: {len(tested)}/{len(covs)} rules tested, "
             f"{reached}/{steps} steps of tested rules reached"]
    for cov in covs:
        rule = cov.plan.rule_id
        if not cov.tested:
            lines.append(f"  {rule}: no test")
            continue
        if not cov.fired:
            lines.append(f"  {rule}: never fired in its tests")
        for step in cov.missing_steps():
            lines.append(f"  {step.at or rule}: step {step.id} ({step.kind}) never reached")
        for step, branch in cov.missing_branches():
            what = {"then": "never true", "else": "never false", "event": "never got its event",
                    "timeout": "never timed out"}[branch]
            lines.append(f"  {step.at or rule}: {step.kind} {step.id} {what}")
    return lines


def write_junit(result: RunResult, path: Path) -> None:
    suites = ET.Element("testsuites", name="wendu rules test")
    by_file: dict[str, list] = {}
    for case in result.cases:
        by_file.setdefault(case.file, []).append(case)
    for problem in result.problems:
        by_file.setdefault(problem.path, [])
    for file, cases in by_file.items():
        problems = [p for p in result.problems if p.path == file]
        failed = sum(not c.passed for c in cases)
        suite = ET.SubElement(suites, "testsuite", name=file,
                              tests=str(len(cases) + bool(problems)), failures=str(failed),
                              errors=str(int(bool(problems))),
                              time=f"{sum(c.seconds for c in cases):.3f}")
        if problems:
            item = ET.SubElement(suite, "testcase", classname=file, name="(file)")
            ET.SubElement(item, "error", message=problems[0].message).text = \
                "\n".join(str(p) for p in problems)
        for case in cases:
            item = ET.SubElement(suite, "testcase", classname=file, name=case.name,
                                 file=file, line=str(case.line), time=f"{case.seconds:.3f}")
            if case.error:
                ET.SubElement(item, "error", message=case.error).text = case.error
            if case.failures:
                ET.SubElement(item, "failure", message=str(case.failures[0])).text = \
                    "\n".join(str(f) for f in case.failures)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
