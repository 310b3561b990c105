"""Property-based run over the OpenAPI schema (schemathesis): no input the schema allows yields a 5xx.

Bounded: 30 generated examples per operation, derandomized (the same examples every run), on a
small demo database generated on the first evaluation and removed at the end of the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from expsql.server import DemoDaoFactory, create_app

FACTORY = DemoDaoFactory(units=3_000)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(FACTORY))


@pytest.fixture(scope="module", autouse=True)
def _remove_demo_database() -> Iterator[None]:
    yield
    FACTORY.close()


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_yields_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.path}: {response.status_code} {response.text[:500]}"
    )
    assert "Traceback" not in response.text
