"""Tokens bound to an actor act only as that person: a `tasks:act` token acts on its own tasks
only, a `notifications:read` token reads only its own inbox (403 otherwise); unbound tokens
stay integration-wide. Tokens are stored as digests, and creating or revoking one is audited."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.store.models import ApiToken, Notification, Task, utcnow
from wendu.store.models_accounts import AuditLog
from wendu.tokens import TokenError, create_token, revoke_token, verify_token

from .conftest import hire, make_token, running_app

on_loop = pytest.mark.asyncio(loop_scope="session")
SCOPES = ["tasks:act", "notifications:read"]


def seed(factory) -> dict[str, int]:
    """M1 and M2 with a task and an inbox message each; returns the message ids."""
    with factory.begin() as s:
        ingest(s, [hire("M1"), hire("M2")], RuleIndex([]))
    ids = {}
    with factory.begin() as s:
        for who in ("M1", "M2"):
            s.add(Task(id=f"T-{who}", key=f"k/{who}", workflow_id=f"task/{uuid.uuid4().hex}",
                       parent_workflow_id="rule/x/1", rule_id="x", subject_employee_id="A1",
                       assignee_id=who, assignee_role="manager", title=f"Task {who}",
                       status="open", escalation_level=0, due_at=utcnow() + timedelta(days=2)))
            n = Notification(key=f"n/{who}/{uuid.uuid4().hex}", workflow_id="w", step_id="s",
                             recipient_id=who, channel="inapp", template="t", locale="en",
                             subject=f"For {who}", body="hello")
            s.add(n)
            s.flush()
            ids[who] = n.id
    return ids


def bound_token(factory, actor_id: str) -> str:
    with factory.begin() as s:
        return create_token(s, f"bot-{uuid.uuid4().hex[:6]}", SCOPES, actor_id=actor_id,
                            actor="test")


@on_loop
async def test_a_bound_token_reads_and_acts_only_as_itself(settings, temporal, factory):
    ids = seed(factory)
    async with running_app(settings, temporal, bound_token(factory, "M1")) as api:
        inbox = await api.get("/api/v1/notifications")
        assert [n["recipient_id"] for n in inbox.json()] == ["M1"]
        other = await api.get("/api/v1/notifications", params={"recipient": "M2"})
        assert other.status_code == 403 and "acts only as 'M1'" in other.json()["detail"]
        assert (await api.post(f"/api/v1/notifications/{ids['M2']}/read")).status_code == 403
        assert (await api.post(f"/api/v1/notifications/{ids['M1']}/read")).status_code == 200

        tasks = await api.get("/api/v1/tasks")
        assert [t["id"] for t in tasks.json()] == ["T-M1"]
        assert (await api.get("/api/v1/tasks", params={"assignee": "M2"})).status_code == 403
        assert (await api.get("/api/v1/tasks/T-M2")).status_code == 403
        assert (await api.get("/api/v1/tasks/T-M1")).status_code == 200
        forged = await api.post("/api/v1/tasks/T-M2/actions",
                                json={"action": "acknowledge", "actor_id": "M2"})
        assert forged.status_code == 403
        own_task_as_other = await api.post("/api/v1/tasks/T-M1/actions",
                                           json={"action": "acknowledge", "actor_id": "M2"})
        assert own_task_as_other.status_code == 403
        undo = await api.post("/api/v1/tasks/T-M1/undo", json={"actor_id": "M2"})
        assert undo.status_code == 403
        # As itself the request reaches the task's workflow (none runs behind this row).
        mine = await api.post("/api/v1/tasks/T-M1/actions",
                              json={"action": "acknowledge", "actor_id": "M1"})
        assert mine.status_code != 403


@on_loop
async def test_an_unbound_token_stays_integration_wide(settings, temporal, factory):
    seed(factory)
    async with running_app(settings, temporal, make_token(factory, SCOPES)) as api:
        assert (await api.get("/api/v1/notifications", params={"recipient": "M2"})).json()
        assert len((await api.get("/api/v1/tasks")).json()) == 2


def test_tokens_are_digests_checked_in_constant_time_and_audited(factory):
    seed(factory)
    with factory.begin() as s:
        with pytest.raises(TokenError, match="no employee 'E404'"):
            create_token(s, "ghost", SCOPES, actor_id="E404")
        plaintext = create_token(s, "bot", SCOPES, actor_id="M1", actor="cli:ops")
    with factory.begin() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "bot")).one()
        assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert plaintext not in str([getattr(row, c.key) for c in ApiToken.__table__.c])
        assert verify_token(s, plaintext).actor_id == "M1"
        assert verify_token(s, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
        assert revoke_token(s, "bot", actor="cli:ops")
    with factory() as s:
        assert verify_token(s, plaintext) is None
        rows = s.scalars(select(AuditLog).where(AuditLog.target_type == "api_token")
                         .order_by(AuditLog.id)).all()
    assert [(r.actor, r.action) for r in rows] == [("cli:ops", "token.create"),
                                                   ("cli:ops", "token.revoke")]
    assert rows[0].after == {"name": "bot", "scopes": sorted(SCOPES), "actor_id": "M1"}
    assert all(plaintext not in str((r.before, r.after, r.note)) for r in rows)
