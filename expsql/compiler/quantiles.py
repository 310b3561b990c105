"""Quantile metrics in the metric-rows query: the order statistics of per-unit values or of events.

A quantile metric (``quantile: 0.9``) needs per variant (and segment) the number of observations
``n``, the sample quantile and the order statistics at the rank bounds ``ν ∓ z·sqrt(ν(1 − ν)/n)``
(:mod:`expsql.stats.quantiles`). To be exact on every engine, in one statement, with levels that
depend on the data's own ``n``, no percentile function is used: the observations are ranked
with ``ROW_NUMBER()`` and counted with ``COUNT(*)`` over the variant, and each quantile is
picked from its two neighbouring ranks and interpolated as ``PERCENTILE_CONT`` does (position
``h = (n − 1)·level``, 0-based: ``v[⌊h⌋] · (1 − frac h) + v[⌊h⌋ + 1] · frac h``)::

    quantile_ranks_0 AS (        -- unit quantile: the per-unit column unit_metrics already has
      SELECT variant_id, <segments>, expression_3 AS quantile_value,
             ROW_NUMBER() OVER (PARTITION BY variant_id ORDER BY expression_3) AS quantile_rank,
             COUNT(*) OVER (PARTITION BY variant_id) AS quantile_count
      FROM unit_metrics [WHERE <evaluated unit>] [AND expression_3 <> 0 (ignore_zeros)]),
    quantile_0 AS (              -- one row per variant: n, the estimate and the two bounds
      SELECT variant_id, MAX(quantile_count) AS quantile_0_n,
             SUM(CASE WHEN quantile_rank = FLOOR(h) + 1 THEN quantile_value * (1 - (h - FLOOR(h)))
                      WHEN quantile_rank = FLOOR(h) + 2 THEN quantile_value * (h - FLOOR(h)) END)
               AS quantile_0_hat, ...
      FROM quantile_ranks_0 GROUP BY variant_id)

An **event** quantile ranks the events of its one goal term instead, those of the experiment's
evaluated units (the scan joined to ``unit_metrics`` on the unit, which also brings its
segment), then counts per unit its events at or below the estimate, which reads those events
a second time (``quantile_events_<k>`` is referenced twice)::

    quantile_events_1 AS (SELECT u.variant_id, u.unit_id, <segments>, e.event_value AS quantile_value
                          FROM experiment_events AS e JOIN unit_metrics AS u ON <same unit>
                          WHERE <the event is of the term>),
    quantile_ranks_1 AS (...as above, over quantile_events_1),
    quantile_1 AS (...),
    quantile_units_1 AS (SELECT variant_id, SUM(CASE WHEN value <= estimate THEN 1 ELSE 0 END) AS a,
                                COUNT(*) AS b FROM quantile_events_1 JOIN quantile_1 ...
                         GROUP BY variant_id, unit_id),
    quantile_clusters_1 AS (SELECT variant_id, SUM(a), SUM(a * a), SUM(b), SUM(b * b), SUM(a * b),
                                   COUNT(*) FROM quantile_units_1 GROUP BY variant_id)

Then ``quantile_sums`` is ``variant_sums`` with every ``quantile_<k>`` (and ``quantile_clusters_<k>``)
``LEFT JOIN``-ed on the variant keys and segments (a NULL segment matches a NULL segment), and
:mod:`.unpivot` picks each quantile metric's columns by its row index (NULL on other rows).

Each event is one observation (a pre-aggregated row with ``cnt`` 2 is still one); a NULL value is
0, as everywhere in metric rows. An experiment without a quantile metric gets none of this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from expsql.compiler.nodes import (
    alias,
    ascending,
    column,
    conjunction,
    cte,
    identifier,
    number,
)
from expsql.compiler.plan import MetricRow, Plan
from expsql.compiler.quantile_events import (
    QUANTILE_VALUE,
    clusters_query,
    events_query,
    key_name,
    per_unit_query,
    same_keys,
)
from expsql.compiler.scan import variant_keys
from expsql.compiler.segments import segment_columns
from expsql.compiler.unpivot import VARIANT_SUMS
from expsql.contracts import METRIC_CLUSTER_VALUES, METRIC_QUANTILE_VALUES, metric_row_id
from expsql.dialects.base import Dialect
from expsql.grammar.ast import Goal
from expsql.models import Metric

QUANTILE_SUMS = "quantile_sums"
QUANTILE_RANK, QUANTILE_COUNT = "quantile_rank", "quantile_count"
#: The normal 97.5 % quantile of the rank bounds (:data:`expsql.stats.quantiles.RANK_Z`), as a literal.
RANK_Z = Decimal("1.959963984540054")
ESTIMATE_SUFFIXES = ("n", "hat", "lower", "upper")
CLUSTER_SUFFIXES = ("sum_a", "sum_a2", "sum_b", "sum_b2", "sum_ab", "units")


@dataclass(frozen=True)
class QuantileColumns:
    """The quantile CTEs and, per metric row index, the columns of ``quantile_sums`` it reads.

    :param ctes: the CTEs after ``variant_sums`` (``quantile_sums`` last).
    :param columns: row index → contract column → ``quantile_sums`` column.
    :param overall: with a breakdown, each quantile metric's chain over every segment, whose
        rows :mod:`.quantile_rows` appends (:data:`~expsql.contracts.OVERALL_ROW_PREFIX`).
    """

    ctes: list[exp.CTE]
    columns: dict[int, dict[str, str]]
    overall: list[Chain]


def quantile_columns(
    plan: Plan,
    dialect: Dialect,
    rows: list[MetricRow],
    x_names: list[str],
    units: str,
    matches: Callable[[int], exp.Expression],
    pool: exp.Expression | None,
) -> QuantileColumns | None:
    """The quantile metrics' CTEs over the per-unit table ``units`` (``unit_metrics``), ``None``
    when the experiment has none.

    :param rows: the metric rows, in row order; ``x_names`` their x columns.
    :param matches: the scan predicate of a goal term's events, by term index.
    :param pool: which rows of ``units`` are units of the experiment (``None``: all).
    """
    metrics = {metric_row_id(m.id): m for m in plan.experiment.quantile_metrics()}
    if not metrics:
        return None
    keys = [*(c.name for c in variant_keys(plan)), *(c.name for c in segment_columns(plan))]
    segments = {c.name for c in segment_columns(plan)}
    ctes: list[exp.CTE] = []
    joined: list[tuple[str, list[str]]] = []  # (table, its columns) joined into quantile_sums
    picks: dict[int, dict[str, str]] = {}
    overall: list[Chain] = []
    for k, (index, row) in enumerate((i, r) for i, r in enumerate(rows) if r.metric_id in metrics):
        metric = metrics[row.metric_id]
        if metric.event_quantile:
            nominator = row.nominator
            assert isinstance(nominator, Goal)
            is_term = matches(plan.term_index(nominator.key, row.window))
            events = _name("quantile_events", k)
            ctes.append(cte(events, events_query(plan, keys, units, is_term, pool, metric)))
            source, where, value = events, None, QUANTILE_VALUE
        else:
            source, where, value = units, _unit_filter(pool, x_names[index], metric), x_names[index]
        chain = _chain(dialect, str(k), keys, segments, source, value, where, metric)
        ctes += chain.ctes
        joined += chain.tables
        picks[index] = chain.columns
        if segments:  # the variant's quantile over every segment: the breakdown's overall row
            variant_only = [key for key in keys if key not in segments]
            overall.append(
                _chain(
                    dialect, f"overall_{k}", variant_only, set(), source, value, where, metric, row.metric_id
                )
            )
            ctes += overall[-1].ctes
    ctes.append(cte(QUANTILE_SUMS, _sums_query(keys, segments, joined)))
    return QuantileColumns(ctes, picks, overall)


@dataclass(frozen=True)
class Chain:
    """The CTEs of one quantile metric at one grouping (variant and segments, or variant alone).

    :param tables: the per-group CTEs and their columns (the estimates', then the clusters').
    :param columns: contract column → column of those CTEs.
    :param metric_id: the metric row's id (an overall chain's, for its row).
    """

    ctes: list[exp.CTE]
    tables: list[tuple[str, list[str]]]
    columns: dict[str, str]
    metric_id: str = ""


def _chain(
    dialect: Dialect,
    tag: str,
    keys: list[str],
    segments: set[str],
    source: str,
    value: str,
    where: exp.Expression | None,
    metric: Metric,
    metric_id: str = "",
) -> Chain:
    """Rank ``value`` of ``source`` per ``keys``, pick the order statistics, and for an event
    quantile (``source`` its events CTE) count each unit's events at or below the estimate."""
    assert metric.quantile is not None
    ranks, positions, estimates = (
        _name(p, tag) for p in ("quantile_ranks", "quantile_positions", "quantile")
    )
    names = [f"{estimates}_{suffix}" for suffix in ESTIMATE_SUFFIXES]
    ctes = [
        cte(ranks, _ranks_query(dialect, keys, source, value, where)),
        cte(positions, _positions_query(ranks, Decimal(repr(metric.quantile)))),
        cte(estimates, _estimates_query(keys, positions, names, estimates)),
    ]
    tables = [(estimates, names)]
    columns = dict(zip(METRIC_QUANTILE_VALUES, names, strict=True))
    if metric.event_quantile:
        per_unit, clusters = _name("quantile_units", tag), _name("quantile_clusters", tag)
        sums = [f"{clusters}_{suffix}" for suffix in CLUSTER_SUFFIXES]
        ctes.append(cte(per_unit, per_unit_query(keys, segments, source, estimates, names[1])))
        ctes.append(cte(clusters, clusters_query(keys, per_unit, sums, clusters)))
        tables.append((clusters, sums))
        columns |= dict(zip(METRIC_CLUSTER_VALUES, sums, strict=True))
    return Chain(ctes, tables, columns, metric_id)


def _name(prefix: str, k: int | str) -> str:
    return f"{prefix}_{k}"


def _unit_filter(pool: exp.Expression | None, value: str, metric: Metric) -> exp.Expression | None:
    conditions = [] if pool is None else [pool.copy()]
    if metric.ignore_zeros:
        conditions.append(exp.NEQ(this=column(value), expression=number(0)))
    return conjunction(conditions) if conditions else None


def _ranks_query(
    dialect: Dialect, keys: list[str], source: str, value: str, where: exp.Expression | None
) -> exp.Select:
    partition = [column(k) for k in keys]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=partition,
        order=exp.Order(expressions=[ascending(column(value), dialect)]),
    )
    count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[column(k) for k in keys])
    projections = [
        *(column(k) for k in keys),
        alias(column(value), QUANTILE_VALUE) if value != QUANTILE_VALUE else column(value),
        alias(rank, QUANTILE_RANK),
        alias(count, QUANTILE_COUNT),
    ]
    query = (
        exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(source)), copy=False)
    )
    return query if where is None else query.where(where, copy=False)


def _positions_query(ranks: str, level: Decimal) -> exp.Select:
    """Each ranked value with, per level (the estimate's, the lower and the upper bound's), the
    1-based rank below its interpolation position ``h = (n − 1)·level`` and the weight ``h − ⌊h⌋``
    of the rank above."""
    count = column(QUANTILE_COUNT)
    half = exp.Mul(
        this=exp.Literal.number(format(RANK_Z, "f")),
        expression=exp.Sqrt(
            this=exp.Div(
                this=exp.Literal.number(format(level * (1 - level), "f")),
                expression=exp.Cast(this=count.copy(), to=exp.DataType.build("DOUBLE")),
                typed=False,
                safe=False,
            )
        ),
    )
    literal = exp.Literal.number(format(level, "f"))
    levels = (
        literal,
        _clipped(exp.Sub(this=literal.copy(), expression=half.copy())),
        _clipped(exp.Add(this=literal.copy(), expression=half)),
    )
    projections: list[exp.Expression] = [exp.Star()]
    for j, at in enumerate(levels):
        position = exp.Mul(
            this=exp.Paren(this=exp.Sub(this=count.copy(), expression=number(1))),
            expression=exp.Paren(this=at),
        )
        floor = exp.Floor(this=position.copy())
        projections.append(alias(exp.Add(this=floor.copy(), expression=number(1)), _below(j)))
        projections.append(alias(exp.Sub(this=position, expression=floor), _weight(j)))
    return exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(ranks)), copy=False)


def _below(j: int) -> str:
    return f"quantile_below_{j}"


def _weight(j: int) -> str:
    return f"quantile_weight_{j}"


def _estimates_query(keys: list[str], positions: str, names: list[str], table: str) -> exp.Select:
    projections: list[exp.Expression] = [
        *(alias(column(k), key_name(table, k)) for k in keys),
        alias(exp.Max(this=column(QUANTILE_COUNT)), names[0]),
    ]
    projections += [alias(_interpolated(j), name) for j, name in enumerate(names[1:])]
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(positions)), copy=False)
        .group_by(*(column(k) for k in keys), copy=False)
    )


def _clipped(level: exp.Expression) -> exp.Expression:
    """``level`` within [0, 1] (CASE, not GREATEST/LEAST, whose NULL handling differs)."""
    return exp.Case(
        ifs=[
            exp.If(this=exp.LT(this=level.copy(), expression=number(0)), true=number(0)),
            exp.If(this=exp.GT(this=level.copy(), expression=number(1)), true=number(1)),
        ],
        default=level,
    )


def _interpolated(j: int) -> exp.Expression:
    """``PERCENTILE_CONT`` at level ``j`` of the ranked values: a conditional sum over two ranks."""
    below = exp.EQ(this=column(QUANTILE_RANK), expression=column(_below(j)))
    above = exp.EQ(
        this=column(QUANTILE_RANK), expression=exp.Add(this=column(_below(j)), expression=number(1))
    )
    weight_below = exp.Paren(this=exp.Sub(this=number(1), expression=column(_weight(j))))
    picked = exp.Case(
        ifs=[
            exp.If(this=below, true=exp.Mul(this=column(QUANTILE_VALUE), expression=weight_below)),
            exp.If(this=above, true=exp.Mul(this=column(QUANTILE_VALUE), expression=column(_weight(j)))),
        ]
    )
    return exp.Sum(this=picked)


def _sums_query(keys: list[str], segments: set[str], joined: list[tuple[str, list[str]]]) -> exp.Select:
    projections: list[exp.Expression] = [exp.Column(this=exp.Star(), table=identifier(VARIANT_SUMS))]
    projections += [alias(column(name, table), name) for table, names in joined for name in names]
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(VARIANT_SUMS)), copy=False)
    )
    for table, _ in joined:
        query = query.join(
            exp.Table(this=identifier(table)),
            on=same_keys(keys, segments, VARIANT_SUMS, table),
            join_type="left",
            copy=False,
        )
    return query
