"""`wendu up --demo` works on its own copy of the rule library: saving a rule in the console
changes the copy in the data dir, never the package's rules/library/."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from wendu.cli.up import UpOptions, rules_folder
from wendu.demo.library import LIBRARY, library_copy
from wendu.settings import Settings

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEMO = UpOptions(demo=True, host="127.0.0.1", port=8000, temporal_port=None, rules=None)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    base = Settings(environment="test", database_url=db_url, data_dir=data,
                    task_queue=f"q-{uuid.uuid4().hex[:8]}", firing_retry_seconds=0.5)
    return base.model_copy(update={"rules_dir": rules_folder(base, DEMO, data)})


def library_files() -> dict[str, bytes]:
    return {str(p.relative_to(LIBRARY)): p.read_bytes()
            for p in sorted(LIBRARY.rglob("*.yaml"))}


async def test_saving_a_demo_rule_writes_the_copy_and_leaves_the_package_alone(
    console, settings, tmp_path
):
    shipped = library_files()
    assert settings.rules_dir == (tmp_path / "data" / "rules").resolve()
    copy = settings.rules_dir / "overtime_care.yaml"
    source = copy.read_text(encoding="utf-8")
    assert source.encode() == shipped["overtime_care.yaml"]

    csrf = await login(console, "hr")
    edited = source.replace("version: 1", "version: 2", 1)
    assert edited != source
    r = await console.post("/console/rules/overtime-care-week/upload",
                           data={"csrf": csrf, "source": edited, "intent": "save"})
    assert r.status_code == 303, r.text
    assert copy.read_text(encoding="utf-8") == edited
    assert library_files() == shipped


async def test_the_copy_keeps_edits_across_restarts_and_gains_new_library_rules(tmp_path):
    library = tmp_path / "library"
    (library / "tests").mkdir(parents=True)
    (library / "a.yaml").write_text("a: 1\n")
    (library / "tests" / "a_test.yaml").write_text("t: 1\n")
    data = tmp_path / "data"
    folder = library_copy(data, library)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml")) == [
        "a.yaml", "tests/a_test.yaml"]
    (folder / "a.yaml").write_text("a: edited\n")
    (library / "b.yaml").write_text("b: 1\n")
    assert library_copy(data, library) == folder  # the next `wendu up --demo`
    assert (folder / "a.yaml").read_text() == "a: edited\n"
    assert (folder / "b.yaml").read_text() == "b: 1\n"
