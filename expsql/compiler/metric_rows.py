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
    FROM variant_sums CROSS JOIN (VALUES (0, 'metric id'), ...) AS metric_rows   -- one row per metric

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
from dataclasses import replace
from decimal import Decimal

from sqlglot import exp

from expsql.compiler.ast import BinaryOp, Expr, Goal, Negate, Number, goals
from expsql.compiler.goal_rows import (
    CNT,
    SCAN,
    TERM,
    UNIT,
    VALUE,
    VARIANT,
    scan_query,
    shown_variant,
    unit_filter_flag,
    variant_keys,
)
from expsql.compiler.plan import Plan, goals_of, pre_key, with_covariates
from expsql.compiler.relation import EXPOSURE
from expsql.compiler.scan import (
    alias,
    column,
    conjunction,
    cte,
    identifier,
    number,
    source_ctes,
    with_ctes,
)
from expsql.compiler.term_codes import coded_scan
from expsql.compiler.winsorize import winsorize, winsorized_quantiles
from expsql.contracts import METRIC_COVARIATE_VALUES, METRIC_KEYS, METRIC_VALUES
from expsql.dialects.base import Dialect
from expsql.models import AttributionWindow

UNIT_GOALS = "unit_goals"
UNIT_METRICS = "unit_metrics"
VARIANT_SUMS = "variant_sums"
ROWS = "metric_rows"
ROW_INDEX = "row_index"
METRIC_ID = "metric_id"
EXPOSURE_TERM = 0  # the plan puts the exposure goal first


def metric_rows_tree(plan: Plan, dialect: Dialect) -> exp.Select:
    """The metric-rows query of :mod:`expsql.contracts`."""
    if plan.relation.pre_period is not None:
        plan = with_covariates(plan)
    rows = plan.metric_rows()
    plan = replace(plan, reads_value=any(goal.function == "value" for goal in goals_of(rows)))
    expressions: dict[str, int] = {}  # per-unit expression text → its column number
    built: list[exp.Expression] = []
    doubles: list[bool] = []  # a count or value term makes the expression a double already

    def per_unit(side: Expr, window: AttributionWindow | None, pre: bool) -> int:
        text = str(side) if window is None else f"{side} {window}"
        text = f"before the first exposure: {text}" if pre else text
        if text not in expressions:
            expressions[text] = len(built)
            built.append(_per_unit(plan, side, window, pre=pre))
            doubles.append(any(goal.function != "unique" for goal in goals(side)))
        return expressions[text]

    pairs = [(per_unit(r.nominator, r.window, False), per_unit(r.denominator, r.window, False)) for r in rows]
    # CUPED: each adjusted row's covariates, its expressions over the pre-exposure terms.
    covariates = {
        index: (
            per_unit(covariate_of(r.nominator), None, True),
            per_unit(covariate_of(r.denominator), None, True),
        )
        for index, r in enumerate(rows)
        if r.covariate
    }
    # A bare count or value term is already a column of unit_goals, passed on by ``*``.
    names = [
        e.name if isinstance(e, exp.Column) and double else _expression_column(i)
        for i, (e, double) in enumerate(zip(built, doubles, strict=True))
    ]
    metric_ids = [r.metric_id for r in rows]
    # A winsorized metric's x becomes a capped copy, from CTEs between unit_metrics and variant_sums;
    # its covariate's x is capped at the same quantiles of the pre-exposure values.
    quantiles = winsorized_quantiles(plan.experiment)
    covariate_ids = [_covariate_id(metric_ids[i]) for i in covariates]
    quantiles.update({_covariate_id(i): quantiles[i] for i in metric_ids if i in quantiles})
    pool = plan.layout.evaluated_units(column(VARIANT), dialect)
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
    products = list(dict.fromkeys(capped_pairs))
    for index, (xc, yc) in capped_covariates.items():
        x, y = capped_pairs[index]
        products += [
            p for p in ((xc, xc), (yc, yc), (xc, yc), (x, xc), (x, yc), (y, xc), (y, yc)) if p not in products
        ]
    ctes = source_ctes(plan, dialect)
    if len(plan.layers) == 1:
        ctes += [cte(SCAN, scan_query(plan, dialect, doubles=True)), cte(UNIT_GOALS, _unit_goals_query(plan))]
    else:
        scan, matches = coded_scan(plan, dialect)
        ctes += [cte(SCAN, scan), cte(UNIT_GOALS, _unit_goals_from_codes(plan, matches))]
    ctes += [
        cte(UNIT_METRICS, _unit_metrics_query(built, doubles, names)),
        *capped.ctes,
        cte(VARIANT_SUMS, _variant_sums_query(plan, capped.names, products, capped.table)),
    ]
    return with_ctes(_rows_query(plan, metric_ids, capped_pairs, capped_covariates), ctes)


def _covariate_id(metric_id: str) -> str:
    """The name of a metric row's covariate among the rows winsorization caps."""
    return f"{metric_id} before the first exposure"


def covariate_of(node: Expr) -> Expr:
    """A CUPED covariate's expression: the metric's, its exposure goals 1 per unit (an exposure has
    no pre-exposure value); the other goals are read over the pre-exposure terms."""
    if isinstance(node, Goal):
        return Number(1) if node.goal == EXPOSURE else node
    if isinstance(node, Negate):
        return Negate(covariate_of(node.operand))
    if isinstance(node, BinaryOp):
        return BinaryOp(node.operator, covariate_of(node.left), covariate_of(node.right))
    return node


def _count_column(term: int) -> str:
    return f"count_{term}"


def _value_column(term: int) -> str:
    return f"value_{term}"


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
    """The ``keys``, then ``SUM(CASE WHEN <term> THEN cnt ELSE 0 END)`` (and value) per term the
    metrics read, and the ``HAVING`` that keeps exposed units that pass every unit filter (each
    ``unit_filters`` item is 1 on an event that lets its unit pass, else 0); the caller adds FROM
    and GROUP BY.

    :param null_default: ``COALESCE(SUM(CASE WHEN <term> THEN cnt END), 0)``: the engine skips the
        events of other terms instead of adding their zeros.
    """
    needs_count: dict[int, None] = {EXPOSURE_TERM: None}
    needs_value: dict[int, None] = {}
    for row in plan.metric_rows():
        for goal in goals_of([row]):
            wanted = needs_value if goal.function == "value" else needs_count
            wanted.setdefault(plan.term_index(goal.key, row.window))
        if row.covariate:
            for goal in goals_of([row]):
                if goal.goal != EXPOSURE:
                    wanted = needs_value if goal.function == "value" else needs_count
                    wanted.setdefault(plan.term_index(pre_key(goal.key)))
    projections = list(keys)
    for wanted, name, column_name in (
        (needs_count, CNT, _count_column),
        (needs_value, VALUE, _value_column),
    ):
        for term in sorted(wanted):
            # cnt and value are non-NULL here, and every unit has a row: never NULL.
            default = None if null_default else number(0)
            picked = exp.Case(ifs=[exp.If(this=matches(term), true=source(name))], default=default)
            total: exp.Expression = exp.Sum(this=picked)
            if null_default:
                total = exp.Coalesce(this=total, expressions=[number(0)])
            projections.append(alias(total, column_name(term)))
    exposed = exp.GT(
        this=exp.Count(this=exp.Case(ifs=[exp.If(this=matches(EXPOSURE_TERM), true=number(1))])),
        expression=number(0),
    )
    passes = [exp.EQ(this=exp.Max(this=flag), expression=number(1)) for flag in unit_filters]
    return exp.Select().select(*projections, copy=False).having(conjunction([exposed, *passes]), copy=False)


def _is_term(term: int) -> exp.Expression:
    return exp.EQ(this=column(TERM), expression=number(term))


def _per_unit(
    plan: Plan, node: Expr, window: AttributionWindow | None = None, *, pre: bool = False
) -> exp.Expression:
    """A metric expression over one unit's goal terms (columns of ``unit_goals``), in its
    metric's attribution ``window`` when the plan's terms carry windows, or over the
    pre-exposure terms (``pre``, a CUPED covariate)."""
    if isinstance(node, Number):
        value = node.value
        return exp.Literal.number(format(value, "f") if isinstance(value, Decimal) else value)
    if isinstance(node, Goal):
        term = plan.term_index(pre_key(node.key)) if pre else plan.term_index(node.key, window)
        if node.function == "value":
            return column(_value_column(term))
        if node.function == "count":
            return column(_count_column(term))
        positive = exp.GT(this=column(_count_column(term)), expression=number(0))
        return exp.Case(ifs=[exp.If(this=positive, true=number(1))], default=number(0))
    if isinstance(node, Negate):
        return exp.Neg(this=_operand(_per_unit(plan, node.operand, window, pre=pre)))
    assert isinstance(node, BinaryOp)
    left = _operand(_per_unit(plan, node.left, window, pre=pre))
    right = _operand(_per_unit(plan, node.right, window, pre=pre))
    if node.operator == "+":
        return exp.Add(this=left, expression=right)
    if node.operator in ("-", "~"):
        return exp.Sub(this=left, expression=right)
    if node.operator == "*":
        return exp.Mul(this=left, expression=right)
    # x / 0 is 0 for that unit; NULLIF rather than a safe division, which some dialects render as a
    # plain division that fails under ANSI mode (Spark).
    quotient = exp.Div(
        this=left, expression=exp.Nullif(this=right, expression=number(0)), typed=False, safe=False
    )
    return exp.Coalesce(this=quotient, expressions=[number(0)])


def _operand(node: exp.Expression) -> exp.Expression:
    """Parentheses around a compound operand: the tree's shape is the expression's shape."""
    return exp.Paren(this=node) if isinstance(node, (exp.Binary, exp.Neg)) else node


def _expression_column(index: int) -> str:
    return f"expression_{index}"


def _unit_metrics_query(built: list[exp.Expression], doubles: list[bool], names: list[str]) -> exp.Select:
    """Each distinct per-unit expression, as a double (numbers and ``unique`` alone are integers)."""
    projections: list[exp.Expression] = [exp.Star()]
    for i, (expression, double) in enumerate(zip(built, doubles, strict=True)):
        if names[i] != _expression_column(i):
            continue
        typed = expression if double else exp.Cast(this=expression, to=exp.DataType.build("DOUBLE"))
        projections.append(alias(typed, names[i]))
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(UNIT_GOALS)), copy=False)
    )


def _sum_column(index: int) -> str:
    return f"sum_{index}"


def _product_column(left: int, right: int) -> str:
    return f"sum_{left}_{right}"


def _variant_sums_query(
    plan: Plan, names: list[str], products: list[tuple[int, int]], table: str
) -> exp.Select:
    """Per variant: ``n`` and the sums of the columns the metric rows read (a winsorized
    nominator's uncapped column may be read by none)."""
    used = sorted({i for pair in products for i in pair})
    keys = variant_keys(plan)
    projections: list[exp.Expression] = [*keys, alias(exp.Count(this=exp.Star()), "n")]
    projections += [alias(exp.Sum(this=column(names[i])), _sum_column(i)) for i in used]
    squares = {(i, i) for i in used}
    for left, right in [*sorted(squares), *(p for p in products if p not in squares)]:
        product = exp.Mul(this=column(names[left]), expression=column(names[right]))
        projections.append(alias(exp.Sum(this=product), _product_column(left, right)))
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(table)), copy=False)
        .group_by(*(key.copy() for key in keys), copy=False)
    )


def _rows_query(
    plan: Plan,
    metric_ids: list[str],
    pairs: list[tuple[int, int]],
    covariates: dict[int, tuple[int, int]],
) -> exp.Select:
    """Unpivot: one row per variant and metric row, each value picked by ``CASE row_index``; with
    CUPED, the covariate sums too (NULL on the rows that are not adjusted)."""
    # Unqualified names: the two sides of the cross join share none.
    values = [*METRIC_VALUES[1:], *(METRIC_COVARIATE_VALUES if covariates else ())]
    pickers = {name: exp.Case(this=column(ROW_INDEX)) for name in values}
    for index, (x, y) in enumerate(pairs):
        sources = {
            "sum_x": _sum_column(x),
            "sum_x2": _product_column(x, x),
            "sum_y": _sum_column(y),
            "sum_y2": _product_column(y, y),
            "sum_xy": _product_column(x, y),
        }
        if index in covariates:
            xc, yc = covariates[index]
            sources |= {
                "sum_xc": _sum_column(xc),
                "sum_xc2": _product_column(xc, xc),
                "sum_yc": _sum_column(yc),
                "sum_yc2": _product_column(yc, yc),
                "sum_xc_yc": _product_column(xc, yc),
                "sum_x_xc": _product_column(x, xc),
                "sum_x_yc": _product_column(x, yc),
                "sum_y_xc": _product_column(y, xc),
                "sum_y_yc": _product_column(y, yc),
            }
        for name, source in sources.items():
            pickers[name].append("ifs", exp.If(this=number(index), true=column(source)))
    projections: list[exp.Expression] = [
        alias(exp.Literal.string(plan.experiment.id), METRIC_KEYS[0]),
        alias(shown_variant(plan), METRIC_KEYS[1]),
        alias(column(METRIC_ID), METRIC_KEYS[2]),
        alias(column("n"), "n"),
        *(alias(picker, name) for name, picker in pickers.items()),
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
        .from_(exp.Table(this=identifier(VARIANT_SUMS)), copy=False)
        .join(rows, join_type="cross", copy=False)
    )
