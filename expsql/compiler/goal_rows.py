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

Goal filters are conjuncts of the scan's WHERE. Unit filters (exposure, trigger) add one 0/1 flag
per filter to the scan (``unit_filter_i``: the event lets its unit pass filter i); ``unit_terms``
then keeps the rows of events in no term and takes ``MAX(flag)`` per group, and the units that
pass every filter are joined back before the second aggregation::

    unit_terms AS (SELECT variant, term, unit, SUM(cnt), SUM(value), MAX(unit_filter_0) ...
                   GROUP BY variant, term, unit),
    passing_units AS (SELECT variant, unit FROM unit_terms GROUP BY variant, unit
                      HAVING MAX(unit_filter_0) = 1 AND ...),
    filtered_unit_terms AS (SELECT unit_terms.variant, term, unit_terms.unit, unit_count, unit_value
                            FROM unit_terms JOIN passing_units ON <same variant and unit>)
    SELECT ... FROM filtered_unit_terms WHERE term IS NOT NULL GROUP BY variant, term

The join rather than ``MAX(flag) OVER (PARTITION BY variant, unit)``: measured on DuckDB (2M
events, an exposure and a trigger filter), 1.4x the unfiltered query against the window's 2.1x.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from expsql.compiler.nodes import (
    alias,
    column,
    conjunction,
    cte,
    identifier,
    number,
    with_ctes,
)
from expsql.compiler.plan import Plan
from expsql.compiler.scan import (
    CNT,
    PRE_PERIOD,
    SCAN,
    TERM,
    UNIT,
    VALUE,
    VARIANT,
    scan_query,
    shown_variant,
    source_ctes,
    unit_filter_flag,
    variant_keys,
)
from expsql.compiler.segments import segment_columns, segment_outputs, segmented_scan, segmented_units
from expsql.contracts import GOAL_KEYS, GOAL_VALUES
from expsql.dialects.base import Dialect

UNIT_TERMS = "unit_terms"
PASSING_UNITS = "passing_units"
FILTERED_UNIT_TERMS = "filtered_unit_terms"
SEGMENTED_UNIT_TERMS = "segmented_unit_terms"
UNIT_COUNT = "unit_count"
UNIT_VALUE = "unit_value"
PRE_COUNT = "pre_count"
PRE_VALUE = "pre_value"


def unit_terms_query(plan: Plan) -> exp.Select:
    """Per variant, term and unit: ``SUM(cnt)`` and ``SUM(value)``, NULLs counting as 0.

    With unit filters, also ``MAX`` of each flag, and the rows without a term stay: a unit's
    trigger events need not be events of any term.
    """
    keys = [*variant_keys(plan), column(TERM), column(UNIT)]
    projections: list[exp.Expression] = [*(key.copy() for key in keys)]
    if plan.relation.pre_period is None:
        projections += [
            alias(_sum_or_zero(column(CNT)), UNIT_COUNT),
            alias(_sum_or_zero(column(VALUE)), UNIT_VALUE),
        ]
    else:  # CUPED: the sums after the first exposure, and before it
        for period, names in ((0, (UNIT_COUNT, UNIT_VALUE)), (1, (PRE_COUNT, PRE_VALUE))):
            in_period = exp.EQ(this=column(PRE_PERIOD), expression=number(period))
            for source, name in zip((CNT, VALUE), names, strict=True):
                picked = exp.Case(ifs=[exp.If(this=in_period.copy(), true=column(source))])
                projections.append(alias(_sum_or_zero(picked), name))
    flags = [unit_filter_flag(item.index) for item in plan.unit_filters]
    projections += [alias(exp.Max(this=column(flag)), flag) for flag in flags]
    query = exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(SCAN)), copy=False)
    if not flags:
        # Events the coarse scan filter let through but no term matches (and, with layers, the
        # copies of an event in layers where it matches nothing) have no term.
        query = query.where(_has_term(), copy=False)
    return query.group_by(*keys, copy=False)


def passing_units_query(plan: Plan) -> exp.Select:
    """The units (variant, unit id) with, for every unit filter, an event that passes it."""
    keys = [*variant_keys(plan), column(UNIT)]
    passes = [
        exp.EQ(this=exp.Max(this=column(unit_filter_flag(item.index))), expression=number(1))
        for item in plan.unit_filters
    ]
    return (
        exp.Select()
        .select(*(key.copy() for key in keys), copy=False)
        .from_(exp.Table(this=identifier(UNIT_TERMS)), copy=False)
        .group_by(*keys, copy=False)
        .having(conjunction(passes), copy=False)
    )


def unit_sums(plan: Plan) -> list[str]:
    """The per-unit sums of ``unit_terms``: ``SUM(cnt)``, ``SUM(value)`` and, with CUPED's
    pre-exposure events, the same before the first exposure."""
    if plan.relation.pre_period is None:
        return [UNIT_COUNT, UNIT_VALUE]
    return [UNIT_COUNT, UNIT_VALUE, PRE_COUNT, PRE_VALUE]


def filtered_unit_terms_query(plan: Plan) -> exp.Select:
    """The rows of ``unit_terms`` whose unit is among the passing units."""
    same_unit = conjunction(
        [
            exp.EQ(this=column(key, UNIT_TERMS), expression=column(key, PASSING_UNITS))
            for key in (VARIANT, UNIT)
        ]
    )
    projections = [
        *(alias(column(key.name, UNIT_TERMS), key.name) for key in variant_keys(plan)),
        column(TERM),
        alias(column(UNIT, UNIT_TERMS), UNIT),
        *(column(name) for name in unit_sums(plan)),
    ]
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(UNIT_TERMS)), copy=False)
    )
    query.set("joins", [exp.Join(this=exp.Table(this=identifier(PASSING_UNITS)), on=same_unit)])
    return query


def select_from_unit_sums(plan: Plan, projections: list[exp.Expression]) -> tuple[exp.Select, list[exp.CTE]]:
    """``SELECT projections`` from the per-unit term sums, with the CTEs it reads after the scan:
    ``unit_terms``, or with unit filters the rows of a term of the units that pass every filter."""
    ctes = [cte(UNIT_TERMS, unit_terms_query(plan))]
    query = exp.Select().select(*projections, copy=False)
    source = UNIT_TERMS
    if plan.unit_filters:
        ctes.append(cte(PASSING_UNITS, passing_units_query(plan)))
        ctes.append(cte(FILTERED_UNIT_TERMS, filtered_unit_terms_query(plan)))
        source = FILTERED_UNIT_TERMS
    segmented = segmented_units(plan, source, SEGMENTED_UNIT_TERMS)
    ctes += segmented
    query = query.from_(exp.Table(this=identifier(SEGMENTED_UNIT_TERMS if segmented else source)), copy=False)
    return (query.where(_has_term(), copy=False) if plan.unit_filters else query), ctes


def _has_term() -> exp.Expression:
    return exp.Not(this=exp.Is(this=column(TERM), expression=exp.Null()))


def goal_labels(plan: Plan) -> list[exp.Expression]:
    """``unit_type``, ``agg_type`` and ``goal`` of each row's term (from ``term_index``)."""
    labels: list[tuple[str, Callable[[int], str]]] = [
        ("unit_type", lambda i: plan.terms[i].unit_type),
        ("agg_type", lambda i: plan.terms[i].agg_type),
        ("goal", lambda i: plan.terms[i].goal),
    ]
    return [alias(_label(plan, label), name) for name, label in labels]


def dimension_labels(plan: Plan) -> list[exp.Expression]:
    """One column per dimension of the experiment: the row's term's ep-stats label, or ``''``."""
    return [alias(_label(plan, _dimension_label(plan, name)), name) for name in plan.dimension_names]


def goal_rows_tree(plan: Plan, dialect: Dialect) -> exp.Select:
    """The goal-rows query of :mod:`expsql.contracts`."""
    keys = [*variant_keys(plan), column(TERM), *segment_columns(plan)]
    unit_count, unit_value = column(UNIT_COUNT), column(UNIT_VALUE)
    projections: list[exp.Expression] = [
        alias(exp.Literal.string(plan.experiment.id), GOAL_KEYS[0]),
        alias(shown_variant(plan), GOAL_KEYS[1]),
        *goal_labels(plan),
        *dimension_labels(plan),
        *segment_outputs(plan),
    ]
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
    query, ctes = select_from_unit_sums(plan, projections)
    query = query.group_by(*keys, copy=False)
    scan = segmented_scan(plan, dialect, scan_query(plan, dialect), SCAN)
    return with_ctes(query, [*source_ctes(plan, dialect), *scan, *ctes])


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
