"""Every built-in dialect, as a table: it compiles both row contracts and its SQL parses back.

The declared capabilities are checked against what sqlglot really renders for the dialect, so a
flag cannot claim a prefix function that the generator turns into an unescaped ``LIKE``.
"""

from __future__ import annotations

import inspect
import sys

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.dialects import get
from expsql.dialects.registry import build_registry
from tests.engines.test_cross_engine import EXPERIMENTS, SOURCE

BUILT_INS = build_registry(entry_points_=[]).available()

#: name → (sqlglot dialect, connector client, extra); every built-in has a connector (ClickHouse's
#: names no one client: clickhouse-connect for a server, chdb embedded).
EXPECTED = {
    "bigquery": ("bigquery", "google.cloud.bigquery", "bigquery"),
    "clickhouse": ("clickhouse", None, "clickhouse"),
    "databricks": ("databricks", "pyspark", "spark"),
    "duckdb": ("duckdb", "duckdb", None),
    "postgres": ("postgres", "psycopg", "postgres"),
    "redshift": ("redshift", "redshift_connector", "redshift"),
    "snowflake": ("snowflake", "snowflake.connector", "snowflake"),
    "spark": ("spark", "pyspark", "spark"),
    "trino": ("trino", "trino", "trino"),
}
#: The dialects whose Dao stops a running query in the warehouse.
CANCELS = {"clickhouse", "databricks", "duckdb", "postgres", "snowflake", "spark", "trino"}


def test_the_nine_built_ins_are_registered() -> None:
    assert sorted(EXPECTED) == BUILT_INS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_declaration(name: str) -> None:
    dialect = get(name)
    sqlglot_dialect, client, extra = EXPECTED[name]
    assert (dialect.name, dialect.sqlglot_dialect, dialect.client, dialect.extra) == (
        name,
        sqlglot_dialect,
        client,
        extra,
    )
    assert dialect.connector is not None
    assert dialect.description


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_can_cancel_is_declared_exactly_when_the_dao_has_cancel(name: str) -> None:
    dialect = get(name)
    connect = dialect.connector_factory()
    # The return annotation names the Dao class in the connector's module (a string: postponed);
    # the first of a union is the main one (Spark's local session, ClickHouse's server).
    returned = inspect.signature(connect).return_annotation.split("|")[0].strip()
    if returned == "Any":  # Databricks: a Spark Connect session
        from expsql.dialects.spark_connect import SparkConnectDao as dao_class
    else:
        dao_class = getattr(sys.modules[connect.__module__], returned)
    assert dialect.can_cancel == callable(getattr(dao_class, "cancel", None))
    assert dialect.can_cancel == (name in CANCELS)
    assert dialect.can_load_tables == callable(getattr(dao_class, "load_table", None))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_native_prefix_match_flag_matches_sqlglot_rendering(name: str) -> None:
    starts_with = exp.StartsWith(this=exp.column("product"), expression=exp.Literal.string("p_"))
    rendered = get(name).render(starts_with)
    assert ("LIKE" not in rendered.upper()) == get(name).native_prefix_match, rendered


@pytest.mark.parametrize("contract", ["goals", "metrics"])
@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_compiled_sql_parses_back_as_one_statement_in_its_dialect(
    name: str, experiment_id: str, contract: str
) -> None:
    dialect = get(name)
    sql = compile_sql(EXPERIMENTS[experiment_id], dialect=name, rows=contract, source=SOURCE)
    statements = sqlglot.parse(sql, read=dialect.sqlglot_dialect)
    assert len(statements) == 1
    assert isinstance(statements[0], exp.Query)
    assert statements[0].named_selects[:2] == ["exp_id", "exp_variant_id"]
