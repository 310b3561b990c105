"""The module-scoped Daos of the exposures-layout engine tests: each module's ``tables`` fixture
(``(exposures, events)``, or the tables ``names`` lists) loaded into DuckDB, PostgreSQL and Spark
under the module's own prefix, so modules sharing one PostgreSQL server or Spark session never
read each other's tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from expsql.dialects import Dao, get
from expsql.testing import load

Tables = tuple[pd.DataFrame, ...]
DaoFixtures = tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]


def dao_fixtures(prefix: str, names: tuple[str, ...] = ("exposures", "events")) -> DaoFixtures:
    """``duckdb_dao, postgres_dao, spark_dao, clickhouse_session`` fixtures loading the module's
    ``tables`` under ``names``; DuckDB and chdb are private, so their tables keep the names
    without the prefix."""

    def _load(to_engine: Callable[..., None], target: Any, tables: Tables, prefix: str) -> None:
        for frame, name in zip(tables, names, strict=True):
            to_engine(target, frame, table=f"{prefix}{name}")

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

    @pytest.fixture(scope="module")
    def clickhouse_session(
        tables: Tables, open_clickhouse: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory
    ) -> Any:
        session = open_clickhouse(tables[0], table=names[0])
        for frame, name in zip(tables[1:], names[1:], strict=True):
            load.to_clickhouse(
                session, frame, tmp_path_factory.mktemp("clickhouse") / f"{name}.parquet", name
            )
        return session

    return duckdb_dao, postgres_dao, spark_dao, clickhouse_session
