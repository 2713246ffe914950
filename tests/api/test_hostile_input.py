"""Hostile input gets a 4xx naming what is wrong, never a 500, and nothing of it is stored."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from wendu.store.models import Employee, Event, Firing

from .conftest import attendance, hire, running_app, week

pytestmark = pytest.mark.asyncio(loop_scope="session")

BIG = 2**63  # one past BIGINT
KEYS = {"field", "loc", "msg", "type"}


def stored(factory, model=Event) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def raw(body) -> dict:
    """A JSON request built by hand: `json.dumps` escapes lone surrogates as `\\ud800`, as a
    hostile producer would send them (httpx's own encoder refuses to)."""
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}}


def chat(emp: str, text: str, n: int = 1) -> dict:
    return {"id": f"chat-{emp}-{n}", "type": "chat.message", "employee_id": emp,
            "occurred_at": "2026-01-05T10:00:00+08:00", "data": {"text": text, "channel": "web"}}


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("get", f"/api/v1/tasks?offset={BIG}", "offset"),
        ("get", f"/api/v1/notifications?offset={BIG}", "offset"),
        ("post", f"/api/v1/notifications/{2**31}/read", "notification_id"),
        ("post", f"/api/v1/notifications/{10**30}/read", "notification_id"),
    ],
)
async def test_an_integer_past_its_column_is_a_422_naming_the_parameter(api, method, url, field):
    r = await getattr(api, method)(url)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert set(error) == KEYS and error["field"] == field
    bound = "2147483647" if field == "notification_id" else "9223372036854775807"
    assert bound in error["msg"]


async def test_the_largest_offset_and_id_are_answered(api):
    for url in ("/api/v1/tasks", "/api/v1/notifications"):
        r = await api.get(url, params={"offset": BIG - 1})
        assert (r.status_code, r.json()) == (200, [])
    r = await api.post(f"/api/v1/notifications/{2**31 - 1}/read")
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda e: e["data"].update(name="\ud800 bad"), "events[1].data.name", "U+D800"),
        (lambda e: e["data"].update(name="bad\x00name"), "events[1].data.name", "NUL"),
        (lambda e: e.update(id="hire\x00x"), "events[1].id", "NUL"),
        (lambda e: e.update(employee_id="E\udfff"), "events[1].employee_id", "U+DFFF"),
        (lambda e: e["data"].update(level=10**30), "events[1].data.level", "out of range"),
        (lambda e: e["data"].update({"\ud800": 1}), "events[1].data", "key"),
        (lambda e: e.update(occurred_at="0001-01-01T00:00:00+14:00"), "events[1].occurred_at",
         "date out of range"),
        (lambda e: e["data"].update(hired_on="9999-12-31"), "events[1].data.hired_on",
         "date out of range"),
    ],
)
async def test_text_no_database_can_store_is_a_422_naming_the_field(
    api, factory, emp, mutate, field, message
):
    event = hire(emp)
    mutate(event)
    r = await api.post("/api/v1/events", **raw({"events": [hire("M1"), event]}))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert set(error) == KEYS and error["field"] == field
    assert message in error["msg"]
    assert stored(factory) == 0 and stored(factory, Employee) == 0


async def test_a_surrogate_in_chat_text_is_refused_before_it_can_reach_temporal(
    api, factory, emp
):
    r = await api.post("/api/v1/events", **raw(chat(emp, "\udc00")))
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "data.text"
    assert stored(factory) == 0 and stored(factory, Firing) == 0


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/tasks?assignee=%00", "assignee"),
        ("/api/v1/notifications?recipient=E1%00", "recipient"),
        ("/api/v1/tasks/T%00", "path"),
    ],
)
async def test_a_nul_in_a_query_parameter_or_path_is_a_422(api, url, field):
    r = await api.get(url)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]] == [field]


async def test_a_body_over_the_limit_is_413_before_anything_is_stored(api, factory, emp):
    # The default limit is 5 MiB: a batch padded past it, valid but for its size.
    events = [hire(emp), *week(emp)]
    body = json.dumps({"events": events, "pad": " " * (5 * 1024 * 1024)}).encode()
    r = await api.post("/api/v1/events", content=body,
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "5242880 bytes" in r.json()["detail"]
    assert stored(factory) == 0


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(api, factory):
    async def chunks():
        for _ in range(6):
            yield b" " * (1024 * 1024)

    r = await api.post("/api/v1/events", content=chunks(),
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert stored(factory) == 0


async def test_a_text_over_64_kib_is_a_422_naming_it_and_nothing_is_stored(api, factory, emp):
    limit = 64 * 1024
    r = await api.post("/api/v1/events",
                       json={"events": [hire(emp), chat(emp, "累" * (limit // 3 + 1))]})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["field"] == "events[1].data.text"
    assert f"{limit // 3 * 3 + 3} bytes" in error["msg"] and str(limit) in error["msg"]
    assert stored(factory) == 0 and stored(factory, Employee) == 0
    # Exactly at the limit is text like any other.
    r = await api.post("/api/v1/events", json={"events": [hire(emp), chat(emp, "a" * limit)]})
    assert r.status_code == 200, r.text
    assert stored(factory) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"events": [', "not valid JSON: Expecting value (line 1, column 13)"),
        (b'{"id": "x", "data": NaN}', "NaN is not a JSON number"),
        (b'{"id": "caf\xe9"}', "not UTF-8: byte 0xe9 at position 11"),
    ],
)
async def test_a_body_that_is_not_json_gets_the_422_shape_of_every_other(api, factory, body,
                                                                          message):
    r = await api.post("/api/v1/events", content=body,
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert set(error) == KEYS and error["field"] == "body"
    assert message in error["msg"]
    assert stored(factory) == 0


async def test_a_fastapi_validation_error_has_the_same_shape(api):
    r = await api.post("/api/v1/tasks/T1/actions", json={"action": "complete"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error == {"field": "actor_id", "loc": ["body", "actor_id"], "msg": "Field required",
                     "type": "missing"}


async def test_a_firing_whose_workflow_input_temporal_would_refuse_is_a_422(
    settings, temporal, factory, emp
):
    # Temporal refuses a workflow input over its blob size limit (2 MiB unless the cluster
    # says otherwise); a cluster with a lower limit sets WENDU_MAX_WORKFLOW_INPUT_BYTES.
    from .conftest import ALL_SCOPES, make_token

    settings.max_workflow_input_bytes = 2048
    events = [hire("M1"), hire(emp, manager_id="M1"), *week(emp, date(2026, 1, 5))]
    async with running_app(settings, temporal, make_token(factory, ALL_SCOPES)) as api:
        r = await api.post("/api/v1/events", json={"events": events})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["field"] == "events[6]" and error["type"] == "workflow_input_too_large"
    assert "'overtime-care'" in error["msg"] and "2048" in error["msg"]
    assert stored(factory) == 0 and stored(factory, Firing) == 0


async def test_numbers_whose_sums_overflow_are_refused(api, factory, emp):
    # Two such days of overtime summed to infinity, which PostgreSQL's JSON cannot store.
    days = [attendance(emp, date(2026, 1, 5), 1e308), attendance(emp, date(2026, 1, 6), 1e308)]
    r = await api.post("/api/v1/events", json={"events": [hire(emp), *days]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == [
        "events[1].data.overtime_hours", "events[2].data.overtime_hours"]
    assert stored(factory) == 0
