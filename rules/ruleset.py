"""Stage 6: files and folders -> a rule set: every plan, and every problem across all files.

A folder is a rule set: each `*.yaml` / `*.yml` in it (recursively) is one rule, except files
starting with `_` and those in a `tests/` folder (rule tests, `wendu rules test`);
`_groups.yaml` declares the groups its rules may address as `group:<name>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import Field

from wendu.rules.compiler import DEFAULT_SCORERS, check
from wendu.rules.doc import AuthoringModel, Title
from wendu.rules.doc_problems import validate_doc
from wendu.rules.errors import RuleError, RuleErrors, sorted_problems
from wendu.rules.loader import LoadedDoc, load
from wendu.rules.plan import Plan
from wendu.rules.templates_catalog import TemplateCatalog

EXAMPLES_DIR = Path(__file__).parent / "examples"
RULE_SUFFIXES = (".yaml", ".yml")
GROUPS_FILES = ("_groups.yaml", "_groups.yml")
TESTS_DIR = "tests"


class GroupDoc(AuthoringModel):
    title: Title
    description: str = ""


class GroupsDoc(AuthoringModel):
    groups: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-_.]*$")], GroupDoc] = {}


@dataclass
class RuleSetResult:
    plans: list[Plan] = field(default_factory=list)
    problems: list[RuleError] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    # Rule id -> the file it came from; group name -> its declaration.
    files: dict[str, str] = field(default_factory=dict)
    groups: dict[str, GroupDoc] = field(default_factory=dict)

    @property
    def errors(self) -> list[RuleError]:
        return [p for p in self.problems if p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def load_ruleset(
    paths: Iterable[str | Path],
    *,
    templates: TemplateCatalog | None = None,
    scorers: Iterable[str] = DEFAULT_SCORERS,
    groups: Iterable[str] = (),
) -> RuleSetResult:
    """Load and compile every rule under `paths`; problems are collected, never raised."""
    result = RuleSetResult()
    rule_files, group_files = _discover([Path(p) for p in paths], result.problems)
    result.groups = _groups(group_files, result.problems)
    group_names = set(groups) | set(result.groups)
    templates = templates if templates is not None else TemplateCatalog()
    for file in rule_files:
        loaded = _read(file, result.problems)
        if loaded is None:
            continue
        rule_id = loaded.data.get("id") if isinstance(loaded.data, dict) else None
        if isinstance(rule_id, str) and rule_id in result.files:
            result.problems.append(loaded.error(
                ("id",), f"duplicate rule id '{rule_id}': already defined in "
                f"{result.files[rule_id]}", value=True))
            continue
        compiled = check(loaded, templates=templates, scorers=scorers, groups=group_names)
        result.problems.extend(compiled.problems)
        if isinstance(rule_id, str):
            result.files[rule_id] = loaded.path
        if compiled.plan is not None:
            result.plans.append(compiled.plan)
            result.sources[compiled.plan.rule_id] = loaded.text
    result.problems = sorted_problems(result.problems)
    return result


def declared_groups(folder: str | Path) -> dict[str, GroupDoc]:
    """The groups a rule folder's `_groups.yaml` declares: what its rules may address, so a
    rule checked on its own (the console's editor) is checked as `wendu rules validate` does."""
    problems: list[RuleError] = []
    _, group_files = _discover([Path(folder)], problems)
    return _groups(group_files, problems)


def _groups(files: list[Path], problems: list[RuleError]) -> dict[str, GroupDoc]:
    groups: dict[str, GroupDoc] = {}
    for file in files:
        loaded = _read(file, problems)
        if loaded is not None:
            try:
                if loaded.data is not None:
                    groups.update(validate_doc(GroupsDoc, loaded).groups)
            except RuleErrors as exc:
                problems.extend(exc.problems)
    return groups


def _discover(paths: list[Path], problems: list[RuleError]) -> tuple[list[Path], list[Path]]:
    rules: dict[Path, Path] = {}
    groups: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            candidates = sorted(
                f for f in path.rglob("*")
                if f.suffix in RULE_SUFFIXES and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
                # A rule folder's `tests/` holds its rule tests (`wendu rules test`), not rules.
                and TESTS_DIR not in f.relative_to(path).parts[:-1]
            )
        elif path.is_file():
            # A single file still sees the groups declared next to it.
            candidates = [path, *(path.parent / g for g in GROUPS_FILES)]
        else:
            problems.append(RuleError(str(path), 0, 0, "no such file or directory"))
            continue
        for file in candidates:
            key = file.resolve()
            if file.name in GROUPS_FILES:
                if file.is_file():
                    groups.setdefault(key, file)
            elif not file.name.startswith("_") or file == path:
                rules.setdefault(key, file)
    return list(rules.values()), list(groups.values())


def _read(file: Path, problems: list[RuleError]) -> LoadedDoc | None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(RuleError(str(file), 0, 0, "the file is not UTF-8 text"))
        return None
    except OSError as exc:
        problems.append(RuleError(str(file), 0, 0, f"cannot read the file: {exc.strerror}"))
        return None
    try:
        return load(text, str(file))
    except RuleErrors as exc:
        problems.extend(exc.problems)
        return None
