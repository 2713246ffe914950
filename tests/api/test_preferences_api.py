"""Notification preferences over the API: each person mutes a category or picks its channel;
task and compliance messages cannot be muted; a bound token changes only its own."""

from __future__ import annotations

import uuid

import pytest

from wendu.ingest import ingest
from wendu.rules.matcher import RuleIndex
from wendu.tokens import create_token

from .conftest import hire, running_app

on_loop = pytest.mark.asyncio(loop_scope="session")


def seed_and_token(factory, actor_id: str | None) -> str:
    with factory.begin() as s:
        ingest(s, [hire("M1"), hire("M2")], RuleIndex([]))
    with factory.begin() as s:
        return create_token(s, f"p-{uuid.uuid4().hex[:6]}", ["notifications:read"],
                            actor_id=actor_id, actor="test")


def by_name(body: dict) -> dict[str, dict]:
    return {c["category"]: c for c in body["categories"]}


@on_loop
async def test_a_person_mutes_care_and_reads_guides_by_email(settings, temporal, factory):
    async with running_app(settings, temporal, seed_and_token(factory, "M1")) as api:
        listed = by_name((await api.get("/api/v1/preferences/M1")).json())
        assert listed["tasks"]["critical"] and listed["compliance"]["critical"]
        assert not listed["care"]["critical"] and listed["care"]["label_zh"] == "关怀与加班提醒"
        assert (await api.put("/api/v1/preferences/M1/care", json={"muted": True})
                ).status_code == 200
        got = await api.put("/api/v1/preferences/M1/guides", json={"channel": "email"})
        shown = by_name(got.json())
        assert (shown["care"]["muted"], shown["guides"]["channel"]) == (True, "email")
        assert by_name((await api.get("/api/v1/preferences/M1")).json())["care"]["muted"]
        # Someone else's preferences are theirs.
        assert (await api.put("/api/v1/preferences/M2/care", json={"muted": True})
                ).status_code == 403


@on_loop
async def test_critical_categories_and_bad_choices_get_a_422_naming_the_field(
        settings, temporal, factory):
    async with running_app(settings, temporal, seed_and_token(factory, None)) as api:
        for category in ("tasks", "compliance"):
            refused = await api.put(f"/api/v1/preferences/M1/{category}", json={"muted": True})
            assert refused.status_code == 422
            (problem,) = refused.json()["detail"]
            assert problem["field"] == "muted" and "critical" in problem["msg"]
        channel = await api.put("/api/v1/preferences/M1/tasks", json={"channel": "wecom"})
        assert channel.status_code == 200  # a critical category's channel may be picked
        bad = await api.put("/api/v1/preferences/M1/care", json={"channel": "pigeon"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "channel"
        unknown = await api.put("/api/v1/preferences/M1/gossip", json={"muted": True})
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "category"
        assert (await api.get("/api/v1/preferences/NOBODY")).status_code == 404
