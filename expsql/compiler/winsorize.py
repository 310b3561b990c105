"""Outlier winsorization in the metric-rows query: per-unit nominators capped at pooled percentiles.

ep-stats (``Metric(outlier_upper_percentile=u, outlier_lower_percentile=l)``) clips each unit's
nominator to ``[q_low, q_high]``, the pandas ``Series.quantile`` (linear interpolation) at
``l / 100`` and ``1 - u / 100`` of the nominators of all variants together; squares and the
products with the denominator are taken after clipping, the denominator is untouched. Here the
pool is every exposed unit: exactly the units the metric rows sum (``n``), a unit without the
nominator's goal counting as its 0. Between ``unit_metrics`` and ``variant_sums``::

    nominator_caps_0 AS (   -- one row: the percentiles of one per-unit nominator column
      SELECT PERCENTILE_CONT(0.01) WITHIN GROUP (ORDER BY value_2) AS cap_0_0,
             PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY value_2) AS cap_0_1
      FROM unit_metrics),
    capped_metrics AS (     -- the capped copies, beside every column of unit_metrics
      SELECT unit_metrics.*,
             CASE WHEN value_2 < cap_0_0 THEN cap_0_0 WHEN value_2 > cap_0_1 THEN cap_0_1
                  ELSE value_2 END AS capped_5
      FROM unit_metrics CROSS JOIN nominator_caps_0)

``variant_sums`` then reads ``capped_metrics`` and sums ``capped_5`` for that metric's x.

- One caps CTE per nominator column: Redshift refuses two sort-based aggregates (its
  ``PERCENTILE_CONT``) with different ``ORDER BY`` in one SELECT.
- Two metrics with the same nominator and different percentiles get their own capped columns;
  equal ones share one.
- ``CASE`` rather than ``LEAST``/``GREATEST``, whose NULL handling differs between engines
  (PostgreSQL ignores a NULL argument, most others return NULL). A NULL cap (no unit at all)
  leaves the value as it is; a per-unit nominator is never NULL.
- The percentile node is the dialect's (:meth:`~expsql.dialects.base.Dialect.percentile_of`);
  an analytic one (BigQuery's ``PERCENTILE_CONT(x, q) OVER ()``) is read from one row
  (``LIMIT 1``), every row carrying the same value.
- An experiment without winsorized metrics gets none of this: its SQL is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from expsql.compiler.nodes import alias, column, cte, identifier, number
from expsql.contracts import metric_row_id
from expsql.dialects.base import Dialect
from expsql.models import Experiment

CAPPED_METRICS = "capped_metrics"

#: (lower quantile, upper quantile), ``None`` for a side that is not capped.
Quantiles = tuple[Decimal | None, Decimal | None]


@dataclass(frozen=True)
class Winsorized:
    """The metric rows' per-unit columns after winsorization.

    :param ctes: the CTEs to add after ``unit_metrics`` (none when no metric is winsorized).
    :param names: per-unit column names, the capped ones appended.
    :param pairs: each metric row's (x, y) column indexes, a winsorized x pointing at its capped copy.
    :param table: the CTE ``variant_sums`` reads.
    """

    ctes: list[exp.CTE]
    names: list[str]
    pairs: list[tuple[int, int]]
    table: str


def winsorized_quantiles(experiment: Experiment) -> dict[str, Quantiles]:
    """The quantiles of each winsorized metric, by its metric-rows ``metric_id``."""
    return {metric_row_id(m.id): m.winsorizing_quantiles for m in experiment.winsorized_metrics()}


def winsorize(
    quantiles: dict[str, Quantiles],
    dialect: Dialect,
    row_ids: list[str],
    names: list[str],
    pairs: list[tuple[int, int]],
    table: str,
    pool: exp.Expression | None = None,
) -> Winsorized:
    """Cap the x of every row of ``row_ids`` that ``quantiles`` names; ``table`` is the CTE
    holding ``names`` per unit.

    :param pool: which units' values the percentiles are taken over (all when ``None``): the
        exposures layout leaves out the units it excluded for being exposed to several variants.
    """
    if not quantiles:
        return Winsorized([], names, pairs, table)
    names = list(names)
    capped: dict[tuple[int, Quantiles], int] = {}  # (x column, quantiles) → capped column index
    remapped = []
    for row_id, (x, y) in zip(row_ids, pairs, strict=True):
        if row_id in quantiles:
            key = (x, quantiles[row_id])
            if key not in capped:
                capped[key] = len(names)
                names.append(f"capped_{len(names)}")
            x = capped[key]
        remapped.append((x, y))

    # Per nominator column, its distinct quantiles, each a column of that column's caps CTE.
    targets: dict[int, dict[Decimal, str]] = {}
    for x, bounds in capped:
        wanted = targets.setdefault(x, {})
        table_index = list(targets).index(x)
        for quantile in bounds:
            if quantile is not None and quantile not in wanted:
                wanted[quantile] = f"cap_{table_index}_{len(wanted)}"
    ctes = [
        cte(_caps_table(j), _caps_query(dialect, names[x], targets[x], table, pool))
        for j, x in enumerate(targets)
    ]
    projections: list[exp.Expression] = [exp.Column(this=exp.Star(), table=identifier(table))]
    for (x, (lower, upper)), index in capped.items():
        caps = targets[x]
        low = caps[lower] if lower is not None else None
        high = caps[upper] if upper is not None else None
        projections.append(alias(_clip(names[x], low, high), names[index]))
    query = exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(table)), copy=False)
    for j in range(len(targets)):
        query = query.join(exp.Table(this=identifier(_caps_table(j))), join_type="cross", copy=False)
    ctes.append(cte(CAPPED_METRICS, query))
    return Winsorized(ctes, names, remapped, CAPPED_METRICS)


def _caps_table(index: int) -> str:
    return f"nominator_caps_{index}"


def _caps_query(
    dialect: Dialect, target: str, caps: dict[Decimal, str], table: str, pool: exp.Expression | None
) -> exp.Select:
    """One row: the ``caps`` quantiles of column ``target`` over the rows of ``table`` in ``pool``."""
    projections = [alias(dialect.percentile_of(column(target), q), name) for q, name in caps.items()]
    query = exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(table)), copy=False)
    if pool is not None:
        query = query.where(pool.copy(), copy=False)
    return query.limit(number(1), copy=False) if dialect.percentile_window else query


def _clip(target: str, lower: str | None, upper: str | None) -> exp.Expression:
    """``target`` raised to ``lower`` and lowered to ``upper`` (a missing side is not capped)."""
    clipped = exp.Case(default=column(target))
    for cap, comparison in ((lower, exp.LT), (upper, exp.GT)):
        if cap is not None:
            below_or_above = comparison(this=column(target), expression=column(cap))
            clipped.append("ifs", exp.If(this=below_or_above, true=column(cap)))
    return clipped
