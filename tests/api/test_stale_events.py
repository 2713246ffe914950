"""POST /api/v1/events with history: old events fold into the profile, fire nothing, and the
answer says `stale`, under the default freshness window (3 days)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from wendu.store.models import Event, Firing, Profile

from .conftest import ALL_SCOPES, SH, attendance, hire, make_token, running_app, week

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"max_event_age": "3d"})


async def test_last_months_heavy_week_is_stale_and_this_weeks_fires(
        settings, temporal, factory, emp):
    async with running_app(settings, temporal, make_token(factory, ALL_SCOPES)) as api:
        old = week(emp, start=(datetime.now(SH) - timedelta(days=40)).date())
        r = await api.post("/api/v1/events", json={"events": [hire(emp), *old]})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [e["status"] for e in results[1:]] == ["stale"] * 6
        assert all(e["fired"] == [] and e["stale"] == ["overtime-care"] for e in results[1:])
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Firing)) == 0
            assert s.scalar(select(func.count()).select_from(Event)) == 7  # all stored
            assert s.get(Profile, emp).state["overtime"]  # and folded

        # News: yesterday and today, 11 h of overtime each, fire the rule, once.
        now = datetime.now(SH)
        yesterday = attendance(emp, now.date() - timedelta(days=1), overtime=11.0)
        today = {**attendance(emp, now.date(), overtime=11.0), "occurred_at": now.isoformat()}
        r = await api.post("/api/v1/events", json={"events": [yesterday, today]})
        results = r.json()["results"]
        assert [e["status"] for e in results] == ["accepted", "accepted"], results
        assert [f["rule_id"] for e in results for f in e["fired"]] == ["overtime-care"]
