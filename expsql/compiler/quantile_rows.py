"""A breakdown's overall rows of quantile metrics: the quantile of the whole variant.

With a breakdown every metric row is per segment, and the overall result is their sum; a quantile
is not a sum, so :mod:`.quantiles` also ranks each quantile metric's observations per variant
alone, and this module appends their rows to the metric rows (``UNION ALL``)::

    SELECT ... FROM quantile_sums CROSS JOIN (VALUES ...) AS metric_rows   -- the rows as before
    UNION ALL
    SELECT 'exp' AS exp_id, quantile_overall_0_variant_id AS exp_variant_id,
           '@overall:2' AS metric_id, NULL AS platform, 0 AS n, 0 AS sum_x, ...,
           quantile_overall_0_n AS quantile_n, ...
    FROM quantile_overall_0 [LEFT JOIN quantile_clusters_overall_0 ON <same variant>]

Their sums are 0 and their segment NULL, so the overall sums are unchanged; the stats read their
quantile columns for the overall result and leave them out of the segments
(:data:`~expsql.contracts.OVERALL_ROW_PREFIX`).
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.nodes import alias, column, conjunction, identifier, number
from expsql.compiler.plan import Plan
from expsql.compiler.quantile_events import key_name
from expsql.compiler.quantiles import Chain
from expsql.compiler.scan import shown_variant, variant_keys
from expsql.contracts import (
    METRIC_CLUSTER_VALUES,
    METRIC_COVARIATE_VALUES,
    METRIC_KEYS,
    METRIC_QUANTILE_VALUES,
    METRIC_VALUES,
    overall_row_id,
)


def with_overall_rows(
    plan: Plan, rows: exp.Select, overall: list[Chain], covariates: bool
) -> exp.Select | exp.Union:
    """``rows``, then ``UNION ALL`` each overall chain's rows (``rows`` itself without any)."""
    query: exp.Select | exp.Union = rows
    for chain in overall:
        query = exp.Union(this=query, expression=_overall_query(plan, chain, covariates), distinct=False)
    return query


def _overall_query(plan: Plan, chain: Chain, covariates: bool) -> exp.Select:
    (estimates, _), *clustered = chain.tables

    def keyed(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return column(key_name(estimates, node.name), estimates)
        return node

    double_zero = exp.Cast(this=number(0), to=exp.DataType.build("DOUBLE"))
    null = exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE"))
    projections: list[exp.Expression] = [
        alias(exp.Literal.string(plan.experiment.id), METRIC_KEYS[0]),
        alias(shown_variant(plan).transform(keyed), METRIC_KEYS[1]),
        alias(exp.Literal.string(overall_row_id(chain.metric_id)), METRIC_KEYS[2]),
        *(alias(exp.Null(), key.name) for key in plan.key_columns),
        alias(number(0), "n"),
        *(alias(double_zero.copy(), name) for name in METRIC_VALUES[1:]),
        *(alias(null.copy(), name) for name in (METRIC_COVARIATE_VALUES if covariates else ())),
    ]
    tables = dict(chain.tables)
    for name in (*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES):
        source = chain.columns.get(name)
        owner = next((table for table, names in tables.items() if source in names), None)
        picked = column(source, owner) if source is not None and owner is not None else null.copy()
        projections.append(alias(picked, name))
    query = exp.Select().select(*projections, copy=False)
    query = query.from_(exp.Table(this=identifier(estimates)), copy=False)
    for clusters, _ in clustered:
        same = conjunction(
            [
                exp.EQ(
                    this=column(key_name(estimates, key.name), estimates),
                    expression=column(key_name(clusters, key.name), clusters),
                )
                for key in variant_keys(plan)
            ]
        )
        query = query.join(exp.Table(this=identifier(clusters)), on=same, join_type="left", copy=False)
    return query
