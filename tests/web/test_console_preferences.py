"""The console's notification preferences page, in English and Chinese: a person mutes a
category and picks a channel for another; critical categories cannot be muted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wendu.store.models_preferences import NotificationPreference

from .conftest import login

on_loop = pytest.mark.asyncio(loop_scope="session")


@on_loop
async def test_a_manager_mutes_care_and_reads_guides_by_email(console, factory):
    csrf = await login(console, "m1")  # an English account
    shown = await console.get("/console/preferences")
    assert shown.status_code == 200
    assert "Notification preferences" in shown.text and "Care and overtime" in shown.text
    assert 'name="muted_tasks"' not in shown.text and "Critical: cannot be muted" in shown.text
    saved = await console.post("/console/preferences", data={
        "csrf": csrf, "muted_care": "on", "channel_guides": "email",
        "muted_tasks": "on"})  # a forged tick on a critical category changes nothing
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/preferences?saved=true"
    with factory() as session:
        rows = {(r.category, r.muted, r.channel) for r in session.scalars(
            select(NotificationPreference).where(NotificationPreference.employee_id == "M1"))}
    assert {("care", True, None), ("guides", False, "email"), ("tasks", False, None)} <= rows
    again = await console.get("/console/preferences?saved=true")
    assert "Saved" in again.text and 'name="muted_care" checked' in again.text

    console.cookies.set("wendu_lang", "zh-CN")
    zh = await console.get("/console/preferences")
    assert "通知偏好" in zh.text and "关键消息，不能静音" in zh.text and "企业微信" in zh.text


@on_loop
async def test_a_bad_channel_is_answered_on_the_page_and_nothing_is_half_saved(console, factory):
    csrf = await login(console, "a1")
    refused = await console.post("/console/preferences", data={
        "csrf": csrf, "muted_care": "on", "channel_learning": "pigeon"})
    assert refused.status_code == 422 and "unknown channel &#39;pigeon&#39;" in refused.text
    with factory() as session:
        assert session.scalars(select(NotificationPreference).where(
            NotificationPreference.employee_id == "A1")).all() == []
    assert (await console.post("/console/preferences", data={"muted_care": "on"})
            ).status_code == 403  # no CSRF token
