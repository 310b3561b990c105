"""The coded scan: metric rows' scan when goal terms overlap, each predicate evaluated once per event.

When two goal terms can match the same event (``product=p_1`` and ``product=^p_``), one term index
per event cannot say every term it matches, so the per-unit step tests each term on its own. Those
tests are cheap when they read small codes the scan computed once per event::

    experiment_events AS (
      SELECT variant, unit, cnt, value,
             CASE WHEN <unit type, aggregation type, goal 0> THEN 0 WHEN <goal 1> THEN 1 ... END
               AS goal_code,
             STARTS_WITH(product, 'p_') AS term_filter_0,    -- each distinct dimension filter
             product = 'p_1' AS term_filter_1, ...          -- (and window test) once
      FROM events WHERE <the scan's WHERE>),
    unit_goals AS (
      SELECT variant, unit,
             COALESCE(SUM(CASE WHEN goal_code = 1 AND term_filter_0 THEN cnt END), 0) AS count_5, ...
      FROM experiment_events GROUP BY variant, unit HAVING <the unit has an exposure event>)

rather than each sum testing its term's string predicates (``agg_type = 'unit' AND goal = 'click'
AND STARTS_WITH(product, 'p_')``) on every event. The sums have no ``ELSE 0``: an engine skips the
NULLs instead of adding zeros (measured on DuckDB, 2M events, 200 metrics over 100 overlapping
terms: about a third less CPU than string predicates with ``ELSE 0``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from expsql.compiler.goal_rows import CNT, UNIT, VALUE, VARIANT, unit_filter_flag
from expsql.compiler.plan import Plan
from expsql.compiler.scan import (
    alias,
    column,
    conjunction,
    double_or_zero,
    event_column,
    events_table,
    goal_predicate,
    key_conditions,
    number,
    scan_filter,
    terms_by_goal,
    unit_filter_indicator,
)
from expsql.dialects.base import Dialect

GOAL_CODE = "goal_code"


def term_filter(index: int) -> str:
    """The scan's boolean column: the event passes the ``index``-th distinct term condition."""
    return f"term_filter_{index}"


def coded_scan(plan: Plan, dialect: Dialect) -> tuple[exp.Select, Callable[[int], exp.Expression]]:
    """The scan with a goal code and one boolean per distinct term condition, and, per term
    index, the predicate over those columns that picks the term's events."""
    relation = plan.relation
    projections: list[exp.Expression] = [
        alias(event_column(relation.exp_variant_id), VARIANT),
        alias(event_column(relation.unit_id), UNIT),
        alias(double_or_zero(event_column(relation.cnt)), CNT),
        alias(double_or_zero(event_column(relation.value)), VALUE),
    ]
    code = exp.Case()
    goal_of: dict[int, int] = {}
    for goal, (identity, indexes) in enumerate(terms_by_goal(plan).items()):
        code.append("ifs", exp.If(this=conjunction(goal_predicate(plan, *identity)), true=number(goal)))
        goal_of.update(dict.fromkeys(indexes, goal))
    projections.append(alias(code, GOAL_CODE))
    # sqlglot trees compare and hash by structure: one column per distinct condition.
    filters: dict[exp.Expression, str] = {}
    conditions: list[list[str]] = []
    for key in plan.terms:
        names = []
        for condition in key_conditions(plan, key, dialect):
            if condition not in filters:
                filters[condition] = term_filter(len(filters))
                projections.append(alias(condition, filters[condition]))
            names.append(filters[condition])
        conditions.append(names)
    projections += [
        alias(unit_filter_indicator(plan, item, dialect), unit_filter_flag(item.index))
        for item in plan.unit_filters
    ]
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(events_table(plan), copy=False)
        .where(scan_filter(plan, dialect), copy=False)
    )

    def matches(term: int) -> exp.Expression:
        goal = exp.EQ(this=column(GOAL_CODE), expression=number(goal_of[term]))
        return conjunction([goal, *(column(name) for name in conditions[term])])

    return query, matches
