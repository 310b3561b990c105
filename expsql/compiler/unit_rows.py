"""Unit rows: each unit's ``SUM(cnt)`` and ``SUM(value)`` per goal term, what ep-stats' by-unit
evaluation reads.

The goal rows' first aggregation, kept instead of summed again (shape as in :mod:`.goal_rows`)::

    WITH experiment_events AS (...),   -- the one scan, the same as the goal rows'
    unit_terms AS (SELECT variant, term, unit, SUM(cnt) AS unit_count, SUM(value) AS unit_value
                   ... GROUP BY variant, term, unit)
    SELECT exp_id, variant, <term labels>, unit, <dimension labels>,
           unit_count AS count, unit_value AS sum_value
    FROM unit_terms

With unit filters, the rows come from ``filtered_unit_terms`` (the units that pass every filter)
and only those of a term are kept, exactly as the goal rows keep them.
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.goal_rows import (
    PRE_COUNT,
    PRE_VALUE,
    UNIT_COUNT,
    UNIT_VALUE,
    dimension_labels,
    goal_labels,
    select_from_unit_sums,
)
from expsql.compiler.nodes import alias, column, with_ctes
from expsql.compiler.plan import Plan
from expsql.compiler.scan import SCAN, UNIT, scan_query, shown_variant, source_ctes
from expsql.compiler.segments import segment_outputs, segmented_scan
from expsql.contracts import UNIT_COVARIATE_VALUES, UNIT_KEYS, UNIT_VALUES
from expsql.dialects.base import Dialect


def unit_rows_tree(plan: Plan, dialect: Dialect) -> exp.Select:
    """The unit-rows query of :mod:`expsql.contracts`."""
    projections: list[exp.Expression] = [
        alias(exp.Literal.string(plan.experiment.id), UNIT_KEYS[0]),
        alias(shown_variant(plan), UNIT_KEYS[1]),
        *goal_labels(plan),
        alias(column(UNIT), UNIT_KEYS[5]),
        *dimension_labels(plan),
        *segment_outputs(plan),
        alias(column(UNIT_COUNT), UNIT_VALUES[0]),
        alias(column(UNIT_VALUE), UNIT_VALUES[1]),
    ]
    if plan.relation.pre_period is not None:
        projections += [
            alias(column(PRE_COUNT), UNIT_COVARIATE_VALUES[0]),
            alias(column(PRE_VALUE), UNIT_COVARIATE_VALUES[1]),
        ]
    query, ctes = select_from_unit_sums(plan, projections)
    scan = segmented_scan(plan, dialect, scan_query(plan, dialect), SCAN)
    return with_ctes(query, [*source_ctes(plan, dialect), *scan, *ctes])
