"""Goal rows: the seed's two-level aggregation, one row per variant and goal term.

Shape (DESIGN.md, "Compiler shape")::

    WITH experiment_events AS (   -- the one scan; WHERE = experiment, dates, goals, dimensions
      SELECT variant, unit, cnt, value, CASE WHEN <term 0> THEN 0 WHEN <term 1> THEN 1 ... END AS term
      FROM events [CROSS JOIN (VALUES (0), (1)) AS layers]   -- only when terms overlap
      WHERE ...),
    unit_terms AS (               -- per unit and term: summed first ...
      SELECT variant, term, unit, SUM(cnt), SUM(value) ... GROUP BY variant, term, unit)
    SELECT ... SUM(unit_count * unit_count) ...   -- ... squared after
    FROM unit_terms GROUP BY variant, term

Grouping by one term index is the seed's unit × goal grouping, with the goal's dimension filters
folded into the index. When two terms can match the same event, the terms are split into layers
of disjoint terms (:func:`expsql.compiler.plan.layer_terms`) and each event is repeated once per
layer, so every term it matches counts it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from expsql.compiler.plan import Plan
from expsql.compiler.scan import (
    alias,
    column,
    event_column,
    events_table,
    identifier,
    number,
    scan_filter,
    term_case,
)
from expsql.contracts import GOAL_KEYS, GOAL_VALUES
from expsql.dialects.base import Dialect

SCAN = "experiment_events"
UNIT_TERMS = "unit_terms"
LAYERS = "term_layers"
LAYER = "layer_index"
VARIANT = "variant_id"
UNIT = "unit_id"
CNT = "event_cnt"
VALUE = "event_value"
TERM = "term_index"
UNIT_COUNT = "unit_count"
UNIT_VALUE = "unit_value"


def cte(name: str, query: exp.Select) -> exp.CTE:
    return exp.CTE(this=query, alias=exp.TableAlias(this=identifier(name)))


def with_ctes(query: exp.Select, ctes: list[exp.CTE]) -> exp.Select:
    query.set("with_", exp.With(expressions=ctes))
    return query


def scan_query(plan: Plan, dialect: Dialect, *, doubles: bool = False) -> exp.Select:
    """The only read of the events table: each matching event with the index of its goal term.

    :param doubles: read ``cnt`` and ``value`` as DOUBLE with NULL as 0, so that every per-unit
        expression built from them is a double (no integer overflow, no integer division).
    """
    columns = plan.source.columns
    cnt, value = event_column(columns.cnt), event_column(columns.value)
    if doubles:
        cnt, value = (
            exp.Cast(this=exp.Coalesce(this=target, expressions=[number(0)]), to=exp.DataType.build("DOUBLE"))
            for target in (cnt, value)
        )
    projections = [
        alias(event_column(columns.exp_variant_id), VARIANT),
        alias(event_column(columns.unit_id), UNIT),
        alias(cnt, CNT),
        alias(value, VALUE),
    ]
    query = exp.Select().from_(events_table(plan), copy=False)
    if len(plan.layers) == 1:
        term: exp.Expression = term_case(plan, plan.layers[0], dialect)
    else:
        term = exp.Case(this=column(LAYER, LAYERS))
        for depth, layer in enumerate(plan.layers):
            term.append("ifs", exp.If(this=number(depth), true=term_case(plan, layer, dialect)))
        layers = exp.Values(
            expressions=[exp.Tuple(expressions=[number(depth)]) for depth in range(len(plan.layers))],
            alias=exp.TableAlias(this=identifier(LAYERS), columns=[identifier(LAYER)]),
        )
        query = query.join(layers, join_type="cross", copy=False)
    projections.append(alias(term, TERM))
    return query.select(*projections, copy=False).where(scan_filter(plan, dialect), copy=False)


def unit_terms_query(plan: Plan) -> exp.Select:
    """Per variant, term and unit: ``SUM(cnt)`` and ``SUM(value)``, NULLs counting as 0."""
    keys = [column(VARIANT), column(TERM), column(UNIT)]
    projections = [
        *(key.copy() for key in keys),
        alias(_sum_or_zero(column(CNT)), UNIT_COUNT),
        alias(_sum_or_zero(column(VALUE)), UNIT_VALUE),
    ]
    query = exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(SCAN)), copy=False)
    # Events the coarse scan filter let through but no term matches (and, with layers, the copies
    # of an event in layers where it matches nothing) have no term.
    query = query.where(exp.Not(this=exp.Is(this=column(TERM), expression=exp.Null())), copy=False)
    return query.group_by(*keys, copy=False)


def goal_rows_tree(plan: Plan, dialect: Dialect) -> exp.Select:
    """The goal-rows query of :mod:`expsql.contracts`."""
    keys = [column(VARIANT), column(TERM)]
    unit_count, unit_value = column(UNIT_COUNT), column(UNIT_VALUE)
    label_columns: list[tuple[str, Callable[[int], str]]] = [
        ("unit_type", lambda i: plan.terms[i].unit_type),
        ("agg_type", lambda i: plan.terms[i].agg_type),
        ("goal", lambda i: plan.terms[i].goal),
    ]
    label_columns += [(name, _dimension_label(plan, name)) for name in plan.dimension_names]
    projections: list[exp.Expression] = [
        alias(exp.Literal.string(plan.experiment.id), GOAL_KEYS[0]),
        alias(column(VARIANT), GOAL_KEYS[1]),
    ]
    projections += [alias(_label(plan, label), name) for name, label in label_columns]
    unique = exp.Case(
        ifs=[exp.If(this=exp.GT(this=unit_count.copy(), expression=number(0)), true=number(1))],
        default=number(0),
    )
    values = [
        exp.Sum(this=unit_count.copy()),
        exp.Sum(this=_square(unit_count)),
        exp.Sum(this=unit_value.copy()),
        exp.Sum(this=_square(unit_value)),
        exp.Sum(this=unique),
    ]
    projections += [alias(value, name) for value, name in zip(values, GOAL_VALUES, strict=True)]
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(UNIT_TERMS)), copy=False)
        .group_by(*keys, copy=False)
    )
    return with_ctes(query, [cte(SCAN, scan_query(plan, dialect)), cte(UNIT_TERMS, unit_terms_query(plan))])


def _square(target: exp.Expression) -> exp.Expression:
    """``target²`` as a DOUBLE: integer squares overflow 64 bits from |target| ≈ 3e9 on (Spark's
    ``BIGINT`` wraps or raises, PostgreSQL's ``BIGINT * BIGINT`` raises); a DOUBLE reaches 1e308 and
    its relative rounding (1e-16) is what the float64 statistics keep of any sum anyway."""
    double = exp.Cast(this=target.copy(), to=exp.DataType.build("DOUBLE"))
    return exp.Mul(this=double, expression=double.copy())


def _sum_or_zero(target: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=exp.Sum(this=target), expressions=[number(0)])


def _dimension_label(plan: Plan, name: str) -> Callable[[int], str]:
    return lambda i: plan.terms[i].dimension_labels.get(name, "")


def _label(plan: Plan, label: Callable[[int], str]) -> exp.Expression:
    """A term's label: one literal when every term shares it, else ``CASE term_index WHEN ...``."""
    labels = [label(i) for i in range(len(plan.terms))]
    if len(set(labels)) == 1:
        return exp.Literal.string(labels[0])
    case = exp.Case(this=column(TERM))
    for index, text in enumerate(labels):
        case.append("ifs", exp.If(this=number(index), true=exp.Literal.string(text)))
    return case
