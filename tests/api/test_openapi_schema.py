"""What openapi.json tells a producer: an example body for every event type of the catalog,
the 401 and 403 each route can give, and only the API (the console's routes are its own)."""

from __future__ import annotations

import pytest

from wendu.api.app import create_app
from wendu.event_models import EVENT_MODELS, parse_events
from wendu.rules.catalog import EVENT_TYPES


@pytest.fixture(scope="module")
def schema() -> dict:
    return create_app().openapi()


def test_every_event_type_has_a_valid_example_body(schema):
    body = schema["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]
    examples = body["application/json"]["examples"]
    assert set(EVENT_TYPES) <= set(examples)
    for name in EVENT_TYPES:
        (event,) = parse_events(examples[name]["value"])  # the example is accepted as sent
        assert event.type == name
        assert examples[name]["summary"] == name
        component = schema["components"]["schemas"][EVENT_MODELS[name].__name__]
        assert component["examples"] == [examples[name]["value"]]
    batch = parse_events(examples["batch"]["value"])
    assert len(batch) == 2


def test_every_api_route_documents_401_and_403(schema):
    operations = [(path, method, op) for path, ops in schema["paths"].items()
                  for method, op in ops.items()]
    api = [(p, m, op) for p, m, op in operations if p.startswith("/api/v1/")
           and not p.startswith("/api/v1/wecom/")]
    assert len(api) >= 15
    for path, method, op in api:
        assert {"401", "403"} <= set(op["responses"]), (method, path)
        assert op["security"] == [{"HTTPBearer": []}], (method, path)
        unauthorized = op["responses"]["401"]
        assert "WWW-Authenticate" in unauthorized["headers"]
        assert unauthorized["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"}
    # WeCom signs its callbacks instead of sending a token: a bad signature is its 403.
    for method, op in schema["paths"]["/api/v1/wecom/callback"].items():
        assert "401" not in op["responses"] and "403" in op["responses"], method
        assert "signature" in op["responses"]["403"]["description"]


def test_the_console_and_the_docs_pages_are_not_in_the_api_schema(schema):
    assert [p for p in schema["paths"] if p.startswith("/console")] == []
    assert not {"/", "/docs", "/redoc", "/static"} & set(schema["paths"])
    assert "console" not in {tag for ops in schema["paths"].values()
                             for op in ops.values() for tag in op.get("tags", [])}
