"""`wendu rules test`: run rule-test files through the real engine.

Each case gets a fresh world (store, worker, time-skipping server): a rule left waiting by
one case cannot hold the next one's clock or dedupe keys. The rules are the folder the
`tests/` folder sits in, compiled by the real compiler, decided at ingest in process, and
run as the real workflows and activities.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from wendu.rules.errors import RuleError, RuleErrors
from wendu.rules.ruleset import TESTS_DIR, RuleSetResult, load_ruleset
from wendu.ruletest.coverage import RuleCoverage, collect
from wendu.ruletest.expect import Checker, Failure
from wendu.ruletest.spec import (
    AdvanceDoc,
    CheckDoc,
    EventDoc,
    LoadedRuleTest,
    ScheduleDoc,
    load_rule_test,
)
from wendu.ruletest.timeline import (
    as_clock,
    build_event,
    duration,
    event_times,
    hire_events,
    known_people,
    server_offset,
)
from wendu.ruletest.world import (
    World,
    migrated_sqlite,
    open_world,
    quiet_runtime,
    time_skipping_env,
)

TEST_SUFFIXES = (".yaml", ".yml")


@dataclass
class CaseResult:
    file: str
    name: str
    line: int
    failures: list[Failure] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures and not self.error


@dataclass
class RunResult:
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[RuleError] = field(default_factory=list)  # files that could not be read
    coverage: dict[str, RuleCoverage] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.passed for c in self.cases)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[RuleError]]:
    """Test files: a file itself, or every `tests/*.yaml` under a folder."""
    found: dict[Path, None] = {}
    problems = []
    for path in paths:
        if path.is_file():
            found[path] = None
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.suffix in TEST_SUFFIXES and file.parent.name == TESTS_DIR:
                    found[file] = None
        else:
            problems.append(RuleError(str(path), 0, 0, "no such file or directory"))
    return list(found), problems


def rules_folder(test_file: Path) -> Path:
    """The rule folder a test file belongs to: the one holding its `tests/` folder."""
    parent = test_file.parent
    return parent.parent if parent.name == TESTS_DIR else parent


class Runner:
    def __init__(self, *, channels: Any = None) -> None:
        self._rulesets: dict[Path, RuleSetResult] = {}
        self._scorers: Any = None
        self._channels = channels
        self._stack = AsyncExitStack()
        self._dir = Path(tempfile.mkdtemp(prefix="wendu-ruletest-"))
        self._template_db: Path | None = None
        self._runtime: Any = None

    async def run(self, paths: Iterable[Path]) -> RunResult:
        files, problems = discover(paths)
        result = RunResult(problems=problems)
        async with self._stack:
            for file in files:
                await self._run_file(file, result)
        return result

    def _ruleset(self, folder: Path) -> RuleSetResult:
        if folder not in self._rulesets:
            self._rulesets[folder] = load_ruleset([folder])
        return self._rulesets[folder]

    async def _run_file(self, file: Path, result: RunResult) -> None:
        try:
            test = load_rule_test(file)
        except RuleErrors as exc:
            result.problems.extend(exc.problems)
            return
        ruleset = self._ruleset(rules_folder(file))
        if ruleset.errors:
            result.problems.extend(ruleset.errors)
            return
        for plan in ruleset.plans:
            result.coverage.setdefault(plan.rule_id, RuleCoverage(plan))
        problems = _check_names(test, ruleset)
        if problems:
            result.problems.extend(problems)
            return
        coverage = result.coverage[test.doc.rule]
        coverage.tested = True
        for index in range(len(test.doc.cases)):
            result.cases.append(await self._run_case(test, index, ruleset, coverage))

    async def _run_case(self, test: LoadedRuleTest, index: int, ruleset: RuleSetResult,
                        coverage: RuleCoverage) -> CaseResult:
        case = test.doc.cases[index]
        line, _ = test.loaded.pos(("cases", index))
        out = CaseResult(test.loaded.path, case.name, line)
        started = time.perf_counter()
        case_dir = Path(tempfile.mkdtemp(dir=self._dir))
        try:
            if self._runtime is None:
                self._runtime = quiet_runtime()
            async with time_skipping_env(runtime=self._runtime) as env, open_world(
                env, ruleset, self._db(case_dir), self._dir, scorers=self._registry(),
                channels=self._channels,
            ) as world:
                out.failures = await self._play(world, test, index)
                await collect(world, test.doc.rule, coverage)
        except (TimeoutError, ValueError, RuntimeError, OSError, RPCError) as exc:
            out.error = f"{test.loaded.path}:{line}: case '{case.name}' could not run: {exc}"
        out.seconds = time.perf_counter() - started
        return out

    async def _play(self, world: World, test: LoadedRuleTest, index: int) -> list[Failure]:
        doc, case = test.doc, test.doc.cases[index]
        clock = as_clock(doc.clock)
        await world.post(*hire_events(doc.people, doc.company, clock), fire=False)
        server = await world.now()
        # The server runs whole weeks after the case's clock: move it to that moment.
        await world.advance(clock + server_offset(clock, server) - server)
        now = clock
        checker = Checker(world, doc.rule, test.loaded)
        failures: list[Failure] = []
        for where, item in test.items[index]:
            if isinstance(item, EventDoc):
                for n, at in enumerate(event_times(item, now), start=1):
                    if at > now:
                        await world.advance(at - now)
                        now = at
                    default_id = f"c{index}-e{where[-1]}"
                    await world.post(build_event(item, at, n, default_id), now=now)
                    await world.settle()
            elif isinstance(item, AdvanceDoc):
                await world.advance(duration(item.advance))
                now += duration(item.advance)
                await world.settle()
            elif isinstance(item, ScheduleDoc):
                await self._scan(world, doc.rule)
            elif isinstance(item, CheckDoc):
                await world.settle()
                failures += await checker.check(item.expect, (*where, "expect"))
        if case.expect is not None:
            await world.settle()
            failures += await checker.check(case.expect, ("cases", index, "expect"))
        return failures

    async def _scan(self, world: World, rule_id: str) -> None:
        from wendu.workflows.io import ScanInput
        from wendu.workflows.scan_workflow import ScanWorkflow

        plan = world.plans[rule_id]
        wid = f"scan/{rule_id}/{len(world.workflow_ids)}"
        await world.env.client.start_workflow(
            ScanWorkflow.run, ScanInput(rule_id=plan.rule_id, digest=plan.digest), id=wid,
            task_queue=world.settings.task_queue)
        world.workflow_ids[wid] = None
        await world.settle()

    def _db(self, case_dir: Path) -> str:
        if self._template_db is None:
            self._template_db = self._dir / "template.db"
            migrated_sqlite(self._template_db)
        return migrated_sqlite(case_dir / "wendu.db", self._template_db)

    def _registry(self) -> Any:
        if self._scorers is None:
            from wendu.scorers.registry import ScorerRegistry

            # Baseline models trained in process: what a test says does not depend on the
            # models a data dir happens to hold.
            self._scorers = ScorerRegistry.default(self._dir / "scorers")
        return self._scorers


def _check_names(test: LoadedRuleTest, ruleset: RuleSetResult) -> list[RuleError]:
    loaded, doc = test.loaded, test.doc
    problems = []
    ids = [p.rule_id for p in ruleset.plans]
    if doc.rule not in ids:
        from wendu.rules.errors import suggest

        problems.append(loaded.error(("rule",), f"no rule '{doc.rule}' in "
                                     f"{rules_folder(Path(loaded.path))}"
                                     f"{suggest(doc.rule, ids, 'rules')}", value=True))
    people = known_people(doc.people, doc.company) | {
        item.employee for items in test.items for _, item in items
        if isinstance(item, EventDoc) and item.event == "employee.hired"}
    names: list[tuple[Any, str]] = []
    expects: list[tuple[Any, Any]] = []
    for c, items in enumerate(test.items):
        for where, item in items:
            if isinstance(item, EventDoc):
                names.append(((*where, "employee"), item.employee))
            elif isinstance(item, CheckDoc):
                expects.append(((*where, "expect"), item.expect))
        if doc.cases[c].expect is not None:
            expects.append((("cases", c, "expect"), doc.cases[c].expect))
    for at, exp in expects:
        for kind in ("messages", "tasks"):
            for j, entry in enumerate(getattr(exp, kind) or []):
                names.append(((*at, kind, j, "to"), entry.to))
    for path, pid in names:
        if pid not in people:
            problems.append(loaded.error(path, f"nobody '{pid}' among the people", value=True))
    return problems
