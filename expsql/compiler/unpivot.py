"""The metric rows' last step, shared by :mod:`.metric_rows` and :mod:`.timeline`: per-variant
sums unpivoted into one row per variant and metric row.

``variant_sums`` holds per variant (and segment, or day) ``n``, ``sum_<i>`` for each per-unit
column ``i`` and ``sum_<i>_<j>`` for each product; the rows pick theirs by ``CASE row_index``
from a ``VALUES`` table of the metric rows::

    SELECT exp_id, variant, metric_id, n,
           CASE row_index WHEN 0 THEN sum_0 WHEN 1 THEN sum_2 ... END AS sum_x, sum_1 AS sum_y, ...
    FROM variant_sums CROSS JOIN (VALUES (0, '1'), (1, '2'), ...) AS metric_rows(row_index, metric_id)
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.nodes import alias, column, identifier, number
from expsql.compiler.plan import Plan
from expsql.compiler.scan import shown_variant
from expsql.compiler.segments import segment_outputs
from expsql.contracts import (
    METRIC_CLUSTER_VALUES,
    METRIC_COVARIATE_VALUES,
    METRIC_KEYS,
    METRIC_QUANTILE_VALUES,
    METRIC_VALUES,
)

VARIANT_SUMS = "variant_sums"
ROWS = "metric_rows"
ROW_INDEX = "row_index"
METRIC_ID = "metric_id"


def sum_column(index: int) -> str:
    return f"sum_{index}"


def product_column(left: int, right: int) -> str:
    return f"sum_{left}_{right}"


def rows_query(
    plan: Plan,
    metric_ids: list[str],
    pairs: list[tuple[int, int]],
    covariates: dict[int, tuple[int, int]],
    quantiles: dict[int, dict[str, str]] | None = None,
    table: str = VARIANT_SUMS,
) -> exp.Select:
    """Unpivot: one row per variant and metric row, each value picked by ``CASE row_index``; with
    CUPED, the covariate sums too (NULL on the rows that are not adjusted); with quantile metrics
    (``quantiles``: row index → contract column → column of ``table``, :mod:`.quantiles`), their
    columns, NULL on the other rows."""
    # Unqualified names: the two sides of the cross join share none.
    values = [
        *METRIC_VALUES[1:],
        *(METRIC_COVARIATE_VALUES if covariates else ()),
        *((*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES) if quantiles is not None else ()),
    ]
    choices: dict[str, list[tuple[int, str]]] = {name: [] for name in values}
    for index, (x, y) in enumerate(pairs):
        sources = {
            "sum_x": sum_column(x),
            "sum_x2": product_column(x, x),
            "sum_y": sum_column(y),
            "sum_y2": product_column(y, y),
            "sum_xy": product_column(x, y),
        }
        if index in covariates:
            xc, yc = covariates[index]
            sources |= {
                "sum_xc": sum_column(xc),
                "sum_xc2": product_column(xc, xc),
                "sum_yc": sum_column(yc),
                "sum_yc2": product_column(yc, yc),
                "sum_xc_yc": product_column(xc, yc),
                "sum_x_xc": product_column(x, xc),
                "sum_x_yc": product_column(x, yc),
                "sum_y_xc": product_column(y, xc),
                "sum_y_yc": product_column(y, yc),
            }
        sources |= (quantiles or {}).get(index, {})
        for name, source in sources.items():
            choices[name].append((index, source))
    projections: list[exp.Expression] = [
        alias(exp.Literal.string(plan.experiment.id), METRIC_KEYS[0]),
        alias(shown_variant(plan), METRIC_KEYS[1]),
        alias(column(METRIC_ID), METRIC_KEYS[2]),
        *segment_outputs(plan),
        alias(column("n"), "n"),
        *(alias(_picker(picks, len(pairs)), name) for name, picks in choices.items()),
    ]
    rows = exp.Values(
        expressions=[
            exp.Tuple(expressions=[number(i), exp.Literal.string(metric_id)])
            for i, metric_id in enumerate(metric_ids)
        ],
        alias=exp.TableAlias(this=identifier(ROWS), columns=[identifier(ROW_INDEX), identifier(METRIC_ID)]),
    )
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(table)), copy=False)
        .join(rows, join_type="cross", copy=False)
    )


def _picker(picks: list[tuple[int, str]], rows: int) -> exp.Expression:
    """``CASE row_index WHEN i THEN sum_… END`` over ``picks`` (row index, sum), NULL on the rows
    not picked; the sum itself when every row picks the same one. Most metrics share the exposure
    count as denominator, and the two ``CASE`` expressions picking it were an eighth of the nodes of a
    1,000-metric query."""
    sources = {source for _, source in picks}
    if len(picks) == rows and len(sources) == 1:
        return column(sources.pop())
    if not picks:  # a quantile column no row of this query reads (no event quantile)
        return exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE"))
    return exp.Case(this=column(ROW_INDEX), ifs=[exp.If(this=number(i), true=column(s)) for i, s in picks])
