"""Fixtures of the REST tests: a small demo database, a factory serving it, a client on the app, and
each engine holding the slow warehouse view of :mod:`tests.server.slow_warehouse`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from expsql.server import DemoDaoFactory, create_app
from tests.server.slow_warehouse import VIEW, create_view

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

#: Units of the tests' demo database: enough for every goal and variant, small enough to write fast.
DEMO_UNITS = 6_000
#: The stored part of the slow warehouse view (the demo events, fewer units: only their speed matters).
WAREHOUSE_UNITS = 2_000
EVENTS_TABLE = "serve_events"


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


@pytest.fixture(scope="session")
def warehouse_events() -> pd.DataFrame:
    from expsql.demo import generate_events

    return generate_events(WAREHOUSE_UNITS)


@pytest.fixture(scope="session")
def duckdb_warehouse(warehouse_events: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the slow view."""
    import duckdb

    from expsql.testing import load

    path = tmp_path_factory.mktemp("slow") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        load.to_duckdb(connection, warehouse_events, EVENTS_TABLE)
        connection.execute(create_view("duckdb", EVENTS_TABLE))
    return path


@pytest.fixture(scope="session")
def postgres_warehouse(warehouse_events: pd.DataFrame, postgres_server: Any, postgres_connection: Any) -> str:
    """The test PostgreSQL holding the slow view; its DSN."""
    from expsql.testing import load

    load.to_postgres(postgres_connection, warehouse_events, EVENTS_TABLE)
    with postgres_connection.cursor() as cursor:
        cursor.execute(create_view("postgres", EVENTS_TABLE))
    return str(postgres_server.dsn)


@pytest.fixture(scope="session")
def spark_warehouse(warehouse_events: pd.DataFrame, spark_session: SparkSession) -> Iterator[SparkSession]:
    """The test Spark session holding the slow view (a temporary view)."""
    from expsql.testing import load

    load.to_spark(spark_session, warehouse_events, EVENTS_TABLE)
    spark_session.sql(create_view("spark", EVENTS_TABLE, temporary=True))
    yield spark_session
    spark_session.catalog.dropTempView(VIEW)
