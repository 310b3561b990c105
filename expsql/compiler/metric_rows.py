"""Metric rows: each metric's nominator and denominator evaluated per unit, summed per variant.

Shape when no two goal terms can match the same event, after the scan shared with
:mod:`.goal_rows` (there with ``cnt`` and ``value`` as doubles)::

    unit_goals AS (     -- one row per exposed unit, its goal terms side by side
      SELECT variant, unit, SUM(CASE WHEN term = 3 THEN cnt ELSE 0 END) AS count_3, ...
      FROM experiment_events GROUP BY variant, unit HAVING <the unit has an exposure event>),
    unit_metrics AS (   -- each distinct compound per-unit expression once
      SELECT *, <expression> AS expression_0, ... FROM unit_goals),
    variant_sums AS (   -- n, Σe, Σe², Σe·e' per variant
      SELECT variant, COUNT(*) AS n, SUM(expression_0) ... FROM unit_metrics GROUP BY variant)
    SELECT ..., CASE row_index WHEN 0 THEN sum_0 ... END AS sum_x, ...
    FROM variant_sums CROSS JOIN (VALUES (0, 'metric id'), ...) AS metric_rows   -- :mod:`.unpivot`

When terms overlap (``product=p_1`` and ``product=^p_``), one term index per event cannot say
every term it matches, so the scan computes instead, once per event, one boolean per goal and
per distinct dimension filter, and each sum of ``unit_goals`` tests its term's codes
(:mod:`.term_codes`)::

    unit_goals AS (
      SELECT variant, unit,
             COALESCE(SUM(CASE WHEN term_goal_1 AND term_filter_0 THEN cnt END), 0) AS count_5, ...
      FROM experiment_events GROUP BY variant, unit HAVING <the unit has an exposure event>)

An event then counts in each term it matches with no repeated rows: repeating each event once
per layer of disjoint terms, as the goal rows do, took 6-9x the time of one metric for 20
overlapping metrics, per-term predicates in the sums ~1.0-1.07x (DuckDB). The per-unit step's
cost then grows with its width (one sum per term): on DuckDB, 25 plain per-unit sums alone take
~3x the time of one, 50 ~6x (benchmarks/query.py, issue 14).

Conditional sums straight from the scan, one group per unit: measured on DuckDB, going through
the goal rows' unit × term step first took twice as long (benchmarks/shape.py).

Per-unit semantics are those of :mod:`expsql.contracts`: a missing term is 0, ``unique`` is
``SUM(cnt) > 0``, ``~`` subtracts, and a division by zero gives 0 for that unit.

Filters: goal filters are in the WHERE of either shape (:func:`~expsql.compiler.scan.scan_filter`);
each unit filter adds ``MAX(<the event passes it, 0 or 1>) = 1`` to ``unit_goals``' HAVING, over
the scan's ``unit_filter_i`` flag.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from expsql.compiler.layouts import layout_of
from expsql.compiler.nodes import alias, column, conjunction, cte, identifier, number, with_ctes
from expsql.compiler.plan import Plan
from expsql.compiler.quantile_rows import with_overall_rows
from expsql.compiler.quantiles import QUANTILE_SUMS, quantile_columns
from expsql.compiler.scan import (
    SCAN,
    TERM,
    UNIT,
    scan_query,
    source_ctes,
    unit_filter_flag,
    variant_keys,
)
from expsql.compiler.segments import segment_columns, segmented_scan, segmented_units
from expsql.compiler.term_codes import coded_scan
from expsql.compiler.unit_columns import (
    UNIT_METRICS,
    as_double,
    covariate_id,
    exposure_events,
    expression_column,
    products_of,
    term_sums,
    unit_columns,
)
from expsql.compiler.unpivot import VARIANT_SUMS, product_column, rows_query, sum_column
from expsql.compiler.winsorize import winsorize, winsorized_quantiles
from expsql.dialects.base import Dialect

UNIT_GOALS = "unit_goals"
SEGMENTED_UNIT_GOALS = "segmented_unit_goals"


def metric_rows_tree(plan: Plan, dialect: Dialect) -> exp.Select | exp.Union:
    """The metric-rows query of :mod:`expsql.contracts`."""
    planned = unit_columns(plan)
    plan, pairs, covariates, names = planned.plan, planned.pairs, planned.covariates, planned.names
    metric_ids = planned.metric_ids
    # A winsorized metric's x becomes a capped copy, from CTEs between unit_metrics and variant_sums;
    # its covariate's x is capped at the same quantiles of the pre-exposure values.
    quantiles = winsorized_quantiles(plan.experiment)
    covariate_ids = [covariate_id(metric_ids[i]) for i in covariates]
    quantiles.update({covariate_id(i): quantiles[i] for i in metric_ids if i in quantiles})
    pool = layout_of(plan).evaluated_units()
    capped = winsorize(
        quantiles,
        dialect,
        [*metric_ids, *covariate_ids],
        names,
        [*pairs, *covariates.values()],
        UNIT_METRICS,
        pool,
    )
    capped_pairs = capped.pairs[: len(pairs)]
    capped_covariates = dict(zip(covariates, capped.pairs[len(pairs) :], strict=True))
    products = products_of(capped_pairs, capped_covariates)
    ctes = source_ctes(plan, dialect)
    matches: Callable[[int], exp.Expression] = _is_term
    if len(plan.layers) == 1:
        ctes += segmented_scan(plan, dialect, scan_query(plan, dialect, doubles=True), SCAN)
        ctes.append(cte(UNIT_GOALS, _unit_goals_query(plan)))
    else:
        scan, matches = coded_scan(plan, dialect)
        ctes += segmented_scan(plan, dialect, scan, SCAN)
        ctes.append(cte(UNIT_GOALS, _unit_goals_from_codes(plan, matches)))
    segmented = segmented_units(plan, UNIT_GOALS, SEGMENTED_UNIT_GOALS)
    ctes += segmented
    ctes += [
        cte(
            UNIT_METRICS,
            _unit_metrics_query(
                planned.built, planned.doubles, names, SEGMENTED_UNIT_GOALS if segmented else UNIT_GOALS
            ),
        ),
        *capped.ctes,
        cte(VARIANT_SUMS, variant_sums_query(plan, capped.names, products, capped.table)),
    ]
    x_names = [names[x] for x, _ in pairs]
    ranked = quantile_columns(plan, dialect, planned.rows, x_names, UNIT_METRICS, matches, pool)
    if ranked is None:
        return with_ctes(rows_query(plan, metric_ids, capped_pairs, capped_covariates), ctes)
    rows = rows_query(plan, metric_ids, capped_pairs, capped_covariates, ranked.columns, QUANTILE_SUMS)
    query = with_overall_rows(plan, rows, ranked.overall, bool(capped_covariates))
    return with_ctes(query, [*ctes, *ranked.ctes])


def _unit_goals_query(plan: Plan) -> exp.Select:
    """Per exposed unit, from the scan's term index: ``SUM(cnt)`` and ``SUM(value)`` of each term."""
    keys: list[exp.Expression] = [*variant_keys(plan), column(UNIT)]
    flags: list[exp.Expression] = [column(unit_filter_flag(item.index)) for item in plan.unit_filters]
    query = _conditional_sums(plan, keys, _is_term, column, flags)
    return query.from_(exp.Table(this=identifier(SCAN)), copy=False).group_by(
        *(key.copy() for key in keys), copy=False
    )


def _unit_goals_from_codes(plan: Plan, matches: Callable[[int], exp.Expression]) -> exp.Select:
    """Per exposed unit, from the coded scan (:mod:`.term_codes`): each term's sums test its goal
    code and condition columns, so an event counts in every overlapping term it matches."""
    keys: list[exp.Expression] = [*variant_keys(plan), column(UNIT)]
    flags: list[exp.Expression] = [column(unit_filter_flag(item.index)) for item in plan.unit_filters]
    query = _conditional_sums(plan, keys, matches, column, flags, null_default=True)
    return query.from_(exp.Table(this=identifier(SCAN)), copy=False).group_by(
        *(key.copy() for key in keys), copy=False
    )


def _conditional_sums(
    plan: Plan,
    keys: list[exp.Expression],
    matches: Callable[[int], exp.Expression],
    source: Callable[[str], exp.Expression],
    unit_filters: list[exp.Expression],
    *,
    null_default: bool = False,
) -> exp.Select:
    """The ``keys``, then the sums of each term the metrics read (:func:`.unit_columns.term_sums`),
    and the ``HAVING`` that keeps exposed units that pass every unit filter (each ``unit_filters``
    item is 1 on an event that lets its unit pass, else 0); the caller adds FROM and GROUP BY."""
    projections = [*keys, *term_sums(plan, matches, source, null_default=null_default)]
    exposed = exp.GT(this=exposure_events(matches), expression=number(0))
    passes = [exp.EQ(this=exp.Max(this=flag), expression=number(1)) for flag in unit_filters]
    return exp.Select().select(*projections, copy=False).having(conjunction([exposed, *passes]), copy=False)


def _is_term(term: int) -> exp.Expression:
    return exp.EQ(this=column(TERM), expression=number(term))


def _unit_metrics_query(
    built: list[exp.Expression], doubles: list[bool], names: list[str], table: str
) -> exp.Select:
    """Each distinct per-unit expression, as a double (numbers and ``unique`` alone are integers)."""
    projections: list[exp.Expression] = [exp.Star()]
    for i, (expression, double) in enumerate(zip(built, doubles, strict=True)):
        if names[i] != expression_column(i):
            continue
        projections.append(alias(as_double(expression, double), names[i]))
    return exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(table)), copy=False)


def variant_sums_query(
    plan: Plan, names: list[str], products: list[tuple[int, int]], table: str
) -> exp.Select:
    """Per variant (and segment): ``n`` and the sums of the columns the metric rows read (a
    winsorized nominator's uncapped column may be read by none)."""
    used = sorted({i for pair in products for i in pair})
    keys = [*variant_keys(plan), *segment_columns(plan)]
    projections: list[exp.Expression] = [*keys, alias(exp.Count(this=exp.Star()), "n")]
    projections += [alias(exp.Sum(this=column(names[i])), sum_column(i)) for i in used]
    squares = {(i, i) for i in used}
    for left, right in [*sorted(squares), *(p for p in products if p not in squares)]:
        product = exp.Mul(this=column(names[left]), expression=column(names[right]))
        projections.append(alias(exp.Sum(this=product), product_column(left, right)))
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(table)), copy=False)
        .group_by(*(key.copy() for key in keys), copy=False)
    )
