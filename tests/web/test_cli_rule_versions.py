"""`wendu rules history|diff|rollback` against a served Wendu: the versions a release script
sees, the diff it reviews, and a rollback that the next event fires while the workflow that
started on the newer version finishes on it. Mistakes are one line each, exit 1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from typer.testing import CliRunner

from tests.live_server import free_port, serving
from wendu.api.app import create_app
from wendu.cli.main import app as cli
from wendu.store.models import Firing, Outcome, RuleVersion, Wait
from wendu.store.models_accounts import AuditLog
from wendu.tokens import create_token
from wendu.worker import build_worker

from .conftest import seed_company

SESSION_LOOP = pytest.mark.asyncio(loop_scope="session")

# Waits for the employee's next survey, then records which version it ran. The key carries a
# run's nonce: the dev server outlives the test, and a workflow id never runs twice.
PROBE = """\
id: rollback-probe
version: {v}
title: {{zh: 回滚探针, en: Rollback probe}}
trigger: {{event: attendance.day_closed}}
when:
  - event.overtime_hours > 1
dedupe: "{{{{ employee.id }}}}/{{{{ event.day }}}}/{nonce}"
steps:
  - wait_for:
      event: survey.response
      timeout: 7d
  - record: {{metric: probe_v{v}, value: 1}}
"""


def day(event_id: str, emp: str) -> dict:
    return {"id": event_id, "type": "attendance.day_closed", "employee_id": emp,
            "occurred_at": "2026-11-27T21:00:00+08:00",
            "data": {"day": "2026-11-27", "overtime_hours": 3,
                     "clock_in": "2026-11-27T09:00:00+08:00",
                     "clock_out": "2026-11-27T21:00:00+08:00"}}


def survey(event_id: str, emp: str) -> dict:
    return {"id": event_id, "type": "survey.response", "employee_id": emp,
            "occurred_at": "2026-11-28T10:00:00+08:00",
            "data": {"survey_id": "pulse", "satisfaction": 4}}


async def wendu(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["rules", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


async def eventually(check, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} never happened")


@pytest_asyncio.fixture(loop_scope="session")
async def served(settings, temporal, factory):
    (settings.rules_dir / "probe.yaml").write_text(PROBE.format(v=1, nonce=settings.task_queue))
    seed_company(factory, tasks=False)
    with factory.begin() as s:
        admin = create_token(s, "release", ["events:write", "rules:admin"])
        producer = create_token(s, "producer", ["events:write"])
    app = create_app(settings, temporal_client=temporal)
    async with serving(app) as base, build_worker(temporal, settings, factory):
        yield base, admin, producer


@SESSION_LOOP
async def test_history_diff_and_rollback_from_the_command_line(served, settings, factory):
    base, admin, producer = served
    auth = ["--url", base, "--token", admin]
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        (settings.rules_dir / "probe.yaml").write_text(PROBE.format(v=2, nonce=settings.task_queue))
        assert (await http.post("/api/v1/rules/reload")).status_code == 200
        with factory() as s:
            digests = {v.version: v.digest for v in s.scalars(
                select(RuleVersion).where(RuleVersion.rule_id == "rollback-probe"))}

        code, out = await wendu("history", "rollback-probe", *auth)
        assert code == 0, out
        lines = out.splitlines()
        assert lines[1].split()[:2] == ["1", digests[1][:8]]
        assert lines[2].split()[:3] == ["*", "2", digests[2][:8]]  # current, marked

        code, out = await wendu("diff", "rollback-probe", "1", "2", *auth)
        assert code == 0, out
        assert "-version: 1" in out and "+version: 2" in out
        assert "-  - record: {metric: probe_v1, value: 1}" in out

        # A2's workflow starts on version 2 and waits for A2's next survey.
        r = await http.post("/api/v1/events", json={"events": [day("d-A2", "A2")]})
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["fired"][0]["rule_id"] == "rollback-probe"
        await eventually(lambda: _firing(factory, "d-A2", "started"), "A2's workflow start")

        code, out = await wendu("rollback", "rollback-probe", "1", "--reason", "v2 misfires",
                                *auth)
        assert code == 0, out
        assert f"rollback-probe is now version 1 ({digests[1][:8]})" in out
        with factory() as s:
            audit = s.scalars(select(AuditLog).where(AuditLog.action == "rule.rollback")).one()
            assert (audit.actor, audit.note) == ("token:release", "v2 misfires")

        # The next event fires version 1; A2's running workflow finishes on version 2.
        await http.post("/api/v1/events", json={"events": [day("d-A1", "A1")]})
        first = await eventually(lambda: _firing(factory, "d-A1", "started"), "A1's start")
        assert first.rule_digest == digests[1]
        assert _firing(factory, "d-A2", "started").rule_digest == digests[2]
        await eventually(lambda: _waiting(factory) == {"A1", "A2"}, "both workflows' waits")
        await http.post("/api/v1/events", json={"events": [survey("s-A1", "A1"),
                                                            survey("s-A2", "A2")]})
        recorded = await eventually(lambda: _outcomes(factory) if len(_outcomes(factory)) == 2
                                    else None, "both workflows' outcomes")
        assert recorded == {"A1": "probe_v1", "A2": "probe_v2"}

    # What a user can get wrong, one line each.
    code, out = await wendu("history", "nope", *auth)
    assert code == 1 and "no rule 'nope' (stored rules: " in out and "rollback-probe" in out
    code, out = await wendu("diff", "rollback-probe", "1", "7", *auth)
    assert code == 1 and "has no version '7'; stored: 1 (" in out
    code, out = await wendu("rollback", "rollback-probe", "1", *auth)
    assert code == 1 and "(409): rollback-probe v1" in out and "current version already" in out
    code, out = await wendu("rollback", "rollback-probe", "2", "--url", base, "--token", producer)
    assert code == 1 and "the API refused the token (403)" in out
    code, out = await wendu("history", "rollback-probe", "--url", base, "--token", "wrong")
    assert code == 1 and "refused the token (401)" in out


def _firing(factory, event_id: str, status: str) -> Firing | None:
    with factory() as s:
        return s.scalars(select(Firing).where(Firing.event_id == event_id,
                                              Firing.status == status)).one_or_none()


def _waiting(factory) -> set[str]:
    with factory() as s:
        return set(s.scalars(select(Wait.employee_id).where(Wait.event_type == "survey.response")))


def _outcomes(factory) -> dict[str, str]:
    with factory() as s:
        return {o.employee_id: o.metric for o in s.scalars(
            select(Outcome).where(Outcome.rule_id == "rollback-probe"))}


def test_no_token_and_no_api_are_one_line(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("WENDU_HOME", str(tmp_path))
    monkeypatch.delenv("WENDU_TOKEN", raising=False)
    nobody = f"http://127.0.0.1:{free_port()}"
    runner = CliRunner()
    missing = runner.invoke(cli, ["rules", "history", "overtime-care", "--url", nobody])
    assert missing.exit_code == 1
    assert "no token: pass --token" in missing.output
    assert "wendu tokens create release --scope" in missing.output
    down = runner.invoke(cli, ["rules", "rollback", "overtime-care", "1", "--url", nobody,
                               "--token", "t"])
    assert down.exit_code == 1
    assert f"cannot reach the Wendu API at {nobody}" in down.output
