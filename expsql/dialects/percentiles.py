"""Percentile aggregates as sqlglot nodes, one builder per family of warehouses.

Outlier winsorization caps each unit's nominator at a percentile of all units' nominators, as
pandas' ``Series.quantile`` computes it (linear interpolation between the two nearest ranks).
sqlglot has no one node that every dialect renders as an exact aggregate with that
interpolation, so each :class:`~expsql.dialects.base.Dialect` names its builder; what sqlglot
renders from the obvious nodes (checked in ``tests/dialects/test_percentiles.py``) decides:

- :class:`exp.PercentileCont` is rendered ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)`` for
  PostgreSQL, Snowflake and Redshift and ``QUANTILE_CONT(x, q)`` for DuckDB, all exact; but
  the parsed ``WITHIN GROUP`` form becomes ``PERCENTILE_APPROX``/``APPROX_PERCENTILE`` for
  Spark, Databricks and Trino (sqlglot silently approximates), and ClickHouse and BigQuery
  have no such aggregate.
- Spark's exact ``percentile(x, q)`` is :class:`exp.Quantile` there.
- ClickHouse's ``quantileExactInclusive(q)(x)`` (linear interpolation, Excel's PERCENTILE.INC,
  pandas' default) is a parameterized aggregate.
- BigQuery's ``PERCENTILE_CONT`` is an analytic function only: ``PERCENTILE_CONT(x, q) OVER ()``.
- Trino has no exact percentile: ``approx_percentile(x, q)``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlglot import exp

#: ``(per-unit column, quantile in [0, 1]) -> the percentile node``.
PercentileBuilder = Callable[[exp.Expression, Decimal], exp.Expression]


def _quantile(quantile: Decimal) -> exp.Expression:
    # A quantile in [0, 1] is never negative: the literal is a Literal, not a Neg.
    return exp.Literal(this=format(quantile, "f"), is_string=False)


def percentile_cont(target: exp.Expression, quantile: Decimal) -> exp.Expression:
    """The SQL standard's ordered-set aggregate ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)``
    (DuckDB: ``QUANTILE_CONT(x, q)``)."""
    return exp.PercentileCont(this=target, expression=_quantile(quantile))


def spark_percentile(target: exp.Expression, quantile: Decimal) -> exp.Expression:
    """Spark's exact ``percentile(x, q)`` (linear interpolation, as pandas)."""
    return exp.Quantile(this=target, quantile=_quantile(quantile))


def clickhouse_quantile_exact_inclusive(target: exp.Expression, quantile: Decimal) -> exp.Expression:
    """ClickHouse's exact ``quantileExactInclusive(q)(x)``; its ``quantile`` samples (approximate)."""
    return exp.ParameterizedAgg(
        this="quantileExactInclusive", expressions=[_quantile(quantile)], params=[target]
    )


def percentile_cont_over(target: exp.Expression, quantile: Decimal) -> exp.Expression:
    """The analytic ``PERCENTILE_CONT(x, q) OVER ()``, for warehouses without the aggregate (BigQuery)."""
    return exp.Window(this=exp.PercentileCont(this=target, expression=_quantile(quantile)), over="OVER")


def approx_percentile(target: exp.Expression, quantile: Decimal) -> exp.Expression:
    """The dialect's approximate percentile aggregate (``approx_percentile(x, q)`` in Trino)."""
    return exp.ApproxQuantile(this=target, quantile=_quantile(quantile))
