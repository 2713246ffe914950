"""The API fuzzed from its own OpenAPI schema (schemathesis): every operation, cases generated
from the schema, sent over real HTTP to the running app; no answer may be a 5xx, and every
answer must be what the schema says it is (status documented, body conforming)."""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live_server import serving
from wendu.api.app import create_app

from .conftest import ALL_SCOPES, make_token

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLES = 12  # per operation: bounded, so the suite stays fast; each run draws new cases
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance)


def fuzz(url: str, token: str) -> list[str]:
    """Every operation fuzzed; what failed, one line each."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    problems: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/"):
            continue
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:
            response = case.call(base_url=url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported per operation
            first = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
            problems.append(f"{operation.method.upper()} {operation.path}: "
                            f"{' | '.join(first[:8])}")
    assert operations >= 15, f"only {operations} operations in the schema"
    return problems


async def test_the_api_answers_every_generated_case_as_its_schema_says(settings, temporal,
                                                                        factory):
    token = make_token(factory, ALL_SCOPES)
    async with serving(create_app(settings, temporal_client=temporal)) as url:
        problems = await asyncio.to_thread(fuzz, url, token)
    assert not problems, "\n".join(problems)
