"""The package's import graph keeps its layers: no circles, and the core never reaches up.

`wendu/` is the engine's core; `wendu.cli` (the `wendu` command), `wendu.demo` (the demo
company, scenarios, WeCom sandbox and SMTP sink) and `wendu.ruletest` (the runner behind
`wendu rules test`, whose cases may play against the demo company) are layers above it. A
newcomer should be able to read a module knowing that what it imports does not import it
back, and that the core runs without the command line or the demo. Imports are read with
`ast`, not executed, at the top level and inside functions alike (a lazy import is still a
dependency); imports under `if TYPE_CHECKING:` are left out, as they never run.
"""

from __future__ import annotations

import ast
import pkgutil
import tomllib
from pathlib import Path

import wendu

ROOT = Path(__file__).resolve().parents[1]
UPPER = ("wendu.cli", "wendu.demo", "wendu.ruletest")


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_dirs() -> dict[str, Path]:
    """Each listed package and its folder (the top-level folders map into `wendu.*`)."""
    config = _setuptools()
    mapped = config.get("package-dir", {})
    dirs = {}
    for name in config["packages"]:
        if name in mapped:
            dirs[name] = ROOT / mapped[name]
        else:
            parent, _, leaf = name.rpartition(".")
            dirs[name] = dirs[parent] / leaf
    return dirs


def _modules() -> dict[str, Path]:
    """Every module of every package, found with pkgutil from the package folders."""
    found: dict[str, Path] = {}
    for package, folder in _package_dirs().items():
        found[package] = folder / "__init__.py"
        for info in pkgutil.iter_modules([str(folder)], prefix=package + "."):
            path = folder / (info.name.rpartition(".")[2] + ("" if info.ispkg else ".py"))
            found[info.name] = path / "__init__.py" if info.ispkg else path
    return found


def _runtime_nodes(tree: ast.AST):
    """The import statements that run: everything but `if TYPE_CHECKING:` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules `name` imports, with the packages whose `__init__` that runs
    (importing `a.b.c` runs `a.b` first), less `name`'s own parents (already running)."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                base = f"{anchor}.{base}" if base else anchor
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    own_parents = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
    edges = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in modules and prefix != name and prefix not in own_parents:
                edges.add(prefix)
    return edges


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _is_upper(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in UPPER)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected group of modules (Tarjan), as a readable path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle(graph, group) for group in groups]


def _circle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    return sorted(group)


def test_every_package_folder_is_listed_for_a_wheel():
    """A folder with an `__init__.py` that pyproject does not list is left out of a
    non-editable install: `pip install .` would ship a `wendu` without it."""
    listed = set(_setuptools()["packages"])
    dirs = _package_dirs()
    missing = []
    for package, folder in dirs.items():
        for info in pkgutil.iter_modules([str(folder)], prefix=package + "."):
            if info.ispkg and info.name not in listed:
                missing.append(info.name)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_walk_finds_the_layers():
    names = {info.name for info in pkgutil.walk_packages(wendu.__path__, "wendu.")}
    graph = import_graph()
    assert {"wendu.cli", "wendu.demo"} <= names
    assert names <= set(graph), sorted(names - set(graph))
    assert {"wendu.api", "wendu.rules", "wendu.workflows"} <= set(graph)


def test_no_import_circles():
    found = [" -> ".join(circle) for circle in cycles(import_graph())]
    assert not found, "modules import one another in a circle:\n  " + "\n  ".join(found)


def test_core_never_imports_the_command_line_or_the_demo():
    wrong = [f"{name} imports {target}"
             for name, targets in sorted(import_graph().items()) if not _is_upper(name)
             for target in sorted(targets) if _is_upper(target)]
    assert not wrong, f"the core must not import {', '.join(UPPER)}:\n  " + "\n  ".join(wrong)


def test_the_checks_see_a_circle_and_an_upward_import():
    """The walk is only worth its pass if it can fail: a made-up graph shows it would."""
    graph = {"wendu.firing": {"wendu.waits"}, "wendu.waits": {"wendu.firing"},
             "wendu.ingest": {"wendu.cli.common"}, "wendu.cli.common": set()}
    assert cycles(graph) == [["wendu.firing", "wendu.waits", "wendu.firing"]]
    assert _is_upper("wendu.cli.common") and not _is_upper("wendu.cliff")
