"""The percentile of outlier winsorization, per built-in dialect, as a table.

What sqlglot renders decides the builder: the obvious ``PERCENTILE_CONT ... WITHIN GROUP`` becomes
an approximate function for Spark, Databricks and Trino, so each row says the function a
warehouse gets, whether it is exact, and the SQL must parse back in its dialect as the same text.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.compiler.nodes import column
from expsql.dialects import Dialect, get
from expsql.errors import DialectError
from expsql.models import Experiment
from tests.dialects.test_builtins import EXPECTED

#: dialect → (rendered percentile of x at 0.95, exact or approximate)
PERCENTILES = {
    "bigquery": ("PERCENTILE_CONT(`x`, 0.95) OVER ()", "exact"),
    "clickhouse": ('quantileExactInclusive(0.95)("x")', "exact"),
    "databricks": ("PERCENTILE(`x`, 0.95)", "exact"),
    "duckdb": ('QUANTILE_CONT("x", 0.95)', "exact"),
    "postgres": ('PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY "x")', "exact"),
    "redshift": ('PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY "x")', "exact"),
    "snowflake": ('PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY "x")', "exact"),
    "spark": ("PERCENTILE(`x`, 0.95)", "exact"),
    "trino": ('APPROX_PERCENTILE("x", 0.95)', "approximate"),
}


def test_every_built_in_has_a_row() -> None:
    assert sorted(PERCENTILES) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(PERCENTILES))
def test_rendered_percentile_and_its_exactness(name: str) -> None:
    dialect = get(name)
    rendered = dialect.render(dialect.percentile_of(column("x"), Decimal("0.95")), pretty=False)
    assert (rendered, dialect.percentile) == PERCENTILES[name]
    assert dialect.percentile_window == rendered.endswith("OVER ()")
    if dialect.percentile == "exact":
        assert "APPROX" not in rendered.upper()


@pytest.mark.parametrize("name", sorted(PERCENTILES))
def test_percentile_parses_back_to_the_same_sql(name: str) -> None:
    dialect = get(name)
    rendered = dialect.render(dialect.percentile_of(column("x"), Decimal("0.95")), pretty=False)
    parsed = sqlglot.parse_one(f"SELECT {rendered} FROM t", read=dialect.sqlglot_dialect)
    assert parsed.selects[0].sql(dialect.sqlglot_dialect) == rendered


@pytest.mark.parametrize("name", ["spark", "databricks", "trino"])
def test_sqlglot_approximates_the_standard_form_where_the_builder_avoids_it(name: str) -> None:
    """Why those dialects have their own builder: sqlglot turns WITHIN GROUP into an approximation."""
    standard = sqlglot.parse_one("PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY x)", read="postgres")
    assert "APPROX" in get(name).render(standard).upper()


def test_quantile_literal_is_the_exact_decimal() -> None:
    rendered = get("postgres").render(get("postgres").percentile_of(column("x"), Decimal("0.93")))
    assert "0.93)" in rendered and "0.9299" not in rendered
    assert isinstance(get("duckdb").percentile_of(column("x"), Decimal("0.5")), exp.PercentileCont)


def test_a_dialect_without_a_percentile_refuses_caps_and_points_to_unit_rows() -> None:
    without = Dialect("nopercentile", "duckdb", percentile="none")
    metric = {
        "id": 1,
        "name": "revenue",
        "nominator": "value(user.unit.conversion)",
        "denominator": "count(user.global.exposure)",
        "outlier_upper_percentile": 1,
    }
    experiment = Experiment(id="e", control_variant="a", unit_type="user", metrics=[metric])
    with pytest.raises(DialectError, match=r"nopercentile has no percentile function.*--rows units"):
        compile_sql(experiment, dialect=without, rows="metrics")
    assert "PERCENTILE" not in compile_sql(experiment, dialect=without, rows="units").upper()
    uncapped = Experiment(
        id="e", control_variant="a", unit_type="user", metrics=[metric | {"outlier_upper_percentile": None}]
    )
    assert compile_sql(uncapped, dialect=without, rows="metrics")
