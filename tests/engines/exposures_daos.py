"""The module-scoped Daos of the exposures-layout engine tests: each module's ``tables`` fixture
(``(exposures, events)``) loaded into DuckDB, PostgreSQL and Spark under the module's own prefix,
so modules sharing one PostgreSQL server or Spark session never read each other's tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from expsql.dialects import Dao, get
from tests.engines import load

Tables = tuple[pd.DataFrame, pd.DataFrame]


def _load(to_engine: Callable[..., None], target: Any, tables: Tables, prefix: str) -> None:
    exposures, events = tables
    to_engine(target, exposures, table=f"{prefix}exposures")
    to_engine(target, events, table=f"{prefix}events")


def dao_fixtures(prefix: str) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """``duckdb_dao, postgres_dao, spark_dao`` fixtures; DuckDB is private, so its tables keep
    the default names."""

    @pytest.fixture(scope="module")
    def duckdb_dao(tables: Tables) -> Iterator[Dao]:
        dao = get("duckdb").connect()
        _load(load.to_duckdb, dao.connection, tables, "")  # type: ignore[attr-defined]
        yield dao
        dao.close()

    @pytest.fixture(scope="module")
    def postgres_dao(tables: Tables, postgres_connection: Any) -> Dao:
        _load(load.to_postgres, postgres_connection, tables, prefix)
        return get("postgres").connect(connection=postgres_connection)

    @pytest.fixture(scope="module")
    def spark_dao(tables: Tables, spark_session: Any) -> Dao:
        _load(load.to_spark, spark_session, tables, prefix)
        return get("spark").connect(session=spark_session)

    return duckdb_dao, postgres_dao, spark_dao
