"""The conformance kit on every built-in engine that runs here: DuckDB, PostgreSQL (a scratch
schema of the throwaway server), Spark in local mode, a Spark Connect server started from pyspark's
own ``sbin/start-connect-server.sh``, ClickHouse embedded through chdb, and Snowflake's SQL through
its connector to fakesnow's server (started from its own virtual environment). Each test is one
reference experiment in one row contract (:mod:`expsql.testing.cases`), named after its feature;
the SQLite example plugin runs the same kit in ``tests/engines/test_example_plugin.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from expsql.dialects import Dao, get
from expsql.testing.engines import FakesnowServer, SparkConnectServer
from expsql.testing.pytest_plugin import DialectConformance

pytestmark = pytest.mark.engine("conformance")


class TestDuckDB(DialectConformance):
    DIALECT = "duckdb"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls) -> Iterator[Dao]:
        dao = get("duckdb").connect()
        yield dao
        dao.close()


class TestPostgres(DialectConformance):
    DIALECT = "postgres"
    SCHEMA = "kit_scratch"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls, postgres_connection: Any) -> Iterator[Dao]:
        postgres_connection.execute("CREATE SCHEMA IF NOT EXISTS kit_scratch")
        yield get("postgres").connect(connection=postgres_connection)
        postgres_connection.execute("DROP SCHEMA kit_scratch")  # fails if the kit left a table


class TestSpark(DialectConformance):
    DIALECT = "spark"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls, spark_session: Any) -> Dao:
        return get("spark").connect(session=spark_session)


class TestSparkConnect(DialectConformance):
    DIALECT = "spark"
    SCHEMA = "kit_scratch"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls, spark_connect_server: SparkConnectServer) -> Iterator[Dao]:
        dao = get("spark").connect(spark_connect_server.url)
        assert type(dao).__name__ == "SparkConnectDao"
        dao.execute("CREATE SCHEMA IF NOT EXISTS kit_scratch")
        yield dao
        dao.execute("DROP SCHEMA kit_scratch")  # RESTRICT: fails if the kit left a table
        dao.close()


class TestDatabricksOnSparkConnect(DialectConformance):
    """The Databricks dialect's SQL on the open-source Spark Connect server, through the Databricks
    connector's Spark Connect path: the features whose SQL differs most from Spark's."""

    DIALECT = "databricks"
    SCHEMA = "kit_databricks"
    FEATURES = frozenset({"exposures layout", "winsorization", "CUPED", "breakdowns", "timeline"})

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls, spark_connect_server: SparkConnectServer) -> Iterator[Dao]:
        dao = get("databricks").connect(spark_connect_server.url)
        dao.execute("CREATE SCHEMA IF NOT EXISTS kit_databricks")
        yield dao
        dao.execute("DROP SCHEMA kit_databricks")
        dao.close()


class TestClickHouseEmbedded(DialectConformance):
    DIALECT = "clickhouse"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls) -> Iterator[Dao]:
        try:
            import chdb  # noqa: F401
        except ImportError:
            from expsql.testing.pytest_plugin import engine_unavailable

            engine_unavailable("chdb is not installed", "pip install 'expsql[chdb]'")
        dao = get("clickhouse").connect("chdb:")
        yield dao
        dao.close()


class TestSnowflakeThroughFakesnow(DialectConformance):
    """Snowflake's SQL through snowflake-connector-python to fakesnow's server, which translates it
    to DuckDB: proves the connector path and that the SQL means what the oracle computes under
    fakesnow's translation, not Snowflake's own engine (see docs/connectors.md)."""

    DIALECT = "snowflake"
    SCHEMA = "kit_scratch"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls, fakesnow_server: FakesnowServer) -> Iterator[Dao]:
        dao = get("snowflake").connect(
            "fakesnow", database="expsql", schema="public", **fakesnow_server.options
        )
        dao.execute("CREATE SCHEMA IF NOT EXISTS kit_scratch")
        yield dao
        dao.close()
