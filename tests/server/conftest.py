"""Fixtures of the REST tests: a small demo database, a factory serving it, a client on the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from expsql.server import DemoDaoFactory, create_app

#: Units of the tests' demo database: enough for every goal and variant, small enough to write fast.
DEMO_UNITS = 6_000


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from expsql.demo import write_demo_database

    return write_demo_database(tmp_path_factory.mktemp("server") / "demo.duckdb", units=DEMO_UNITS)


@pytest.fixture
def demo_factory(demo_database: Path) -> DemoDaoFactory:
    return DemoDaoFactory(demo_database)


@pytest.fixture
def client(demo_factory: DemoDaoFactory) -> Iterator[TestClient]:
    with TestClient(create_app(demo_factory)) as test_client:
        yield test_client
