"""The per-unit step shared by metric rows and the timeline: goal-term sums and metric expressions.

:mod:`.metric_rows` sums each unit's goal terms over the whole window, :mod:`.timeline` over each
day; both then evaluate every distinct per-unit expression (a metric's nominator or denominator,
a CUPED covariate) over those sums. This module plans those columns once:

- :func:`unit_columns`: each distinct per-unit expression (its sqlglot tree, whether it is a
  double, its column name) and, per metric row, the indexes of its x and y (and covariates);
- :func:`term_sums`: ``SUM(CASE WHEN <term> THEN cnt ELSE 0 END) AS count_<term>`` (and value)
  for every term the metric rows read;
- :func:`per_unit`: one expression over those ``count_<term>`` / ``value_<term>`` columns.

Per-unit semantics are those of :mod:`expsql.contracts`: a missing term is 0, ``unique`` is
``SUM(cnt) > 0``, ``~`` subtracts, and a division by zero gives 0 for that unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlglot import exp

from expsql.compiler.nodes import alias, column, number
from expsql.compiler.plan import MetricRow, Plan, goals_of, with_covariates
from expsql.compiler.relation import EXPOSURE
from expsql.compiler.scan import CNT, VALUE
from expsql.compiler.terms import pre_key
from expsql.grammar.ast import BinaryOp, Expr, Goal, Negate, Number, goals
from expsql.models import AttributionWindow

EXPOSURE_TERM = 0  # the plan puts the exposure goal first
#: The per-unit expressions' CTE (metric rows and the timeline alike).
UNIT_METRICS = "unit_metrics"


@dataclass(frozen=True)
class UnitColumns:
    """The per-unit expressions of a plan's metric rows.

    :param plan: the plan they were planned on (with CUPED's pre-exposure terms, and
        ``reads_value`` set from the metrics).
    :param rows: the metric rows (:meth:`Plan.metric_rows`).
    :param built: each distinct per-unit expression.
    :param doubles: whether that expression is a double already (a count or value term in it).
    :param names: its column name: the bare ``count_<term>`` / ``value_<term>`` column when it is
        one, else ``expression_<i>``.
    :param pairs: per metric row, the indexes of its x and y.
    :param covariates: per CUPED-adjusted metric row (by its index), its covariates' x and y.
    """

    plan: Plan
    rows: list[MetricRow]
    built: list[exp.Expression]
    doubles: list[bool]
    names: list[str]
    pairs: list[tuple[int, int]]
    covariates: dict[int, tuple[int, int]]

    @property
    def metric_ids(self) -> list[str]:
        return [r.metric_id for r in self.rows]


def unit_columns(plan: Plan) -> UnitColumns:
    """Plan the per-unit expressions of every metric row, each distinct one once."""
    if plan.relation.pre_period is not None:
        plan = with_covariates(plan)
    rows = plan.metric_rows()
    valued = frozenset(goal.goal for goal in goals_of(rows) if goal.function == "value")
    plan = replace(plan, reads_value=bool(valued), value_goals=valued)
    expressions: dict[str, int] = {}  # per-unit expression text → its column number
    built: list[exp.Expression] = []
    doubles: list[bool] = []  # a count or value term makes the expression a double already

    def index_of(side: Expr, window: AttributionWindow | None, pre: bool) -> int:
        text = str(side) if window is None else f"{side} {window}"
        text = f"before the first exposure: {text}" if pre else text
        if text not in expressions:
            expressions[text] = len(built)
            built.append(per_unit(plan, side, window, pre=pre))
            doubles.append(any(goal.function != "unique" for goal in goals(side)))
        return expressions[text]

    pairs = [(index_of(r.nominator, r.window, False), index_of(r.denominator, r.window, False)) for r in rows]
    # CUPED: each adjusted row's covariates, its expressions over the pre-exposure terms.
    covariates = {
        index: (
            index_of(covariate_of(r.nominator), None, True),
            index_of(covariate_of(r.denominator), None, True),
        )
        for index, r in enumerate(rows)
        if r.covariate
    }
    # A bare count or value term is already a column of the per-unit sums.
    names = [
        e.name if isinstance(e, exp.Column) and double else expression_column(i)
        for i, (e, double) in enumerate(zip(built, doubles, strict=True))
    ]
    return UnitColumns(plan, rows, built, doubles, names, pairs, covariates)


def products_of(
    pairs: list[tuple[int, int]], covariates: dict[int, tuple[int, int]]
) -> list[tuple[int, int]]:
    """The (left, right) column pairs whose products the metric rows sum: each row's x·y, and
    with CUPED the covariates' squares and products with x and y."""
    products = list(dict.fromkeys(pairs))
    for index, (xc, yc) in covariates.items():
        x, y = pairs[index]
        products += [
            p for p in ((xc, xc), (yc, yc), (xc, yc), (x, xc), (x, yc), (y, xc), (y, yc)) if p not in products
        ]
    return products


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


def count_column(term: int) -> str:
    return f"count_{term}"


def value_column(term: int) -> str:
    return f"value_{term}"


def expression_column(index: int) -> str:
    return f"expression_{index}"


def term_sums(
    plan: Plan,
    matches: Callable[[int], exp.Expression],
    source: Callable[[str], exp.Expression],
    *,
    null_default: bool = False,
) -> list[exp.Expression]:
    """``SUM(CASE WHEN <term> THEN cnt ELSE 0 END) AS count_<term>`` (and value) per term the
    metric rows read, the exposure's count first.

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
    projections: list[exp.Expression] = []
    for wanted, name, column_name in (
        (needs_count, CNT, count_column),
        (needs_value, VALUE, value_column),
    ):
        for term in sorted(wanted):
            # cnt and value are non-NULL here, and every unit has a row: never NULL.
            default = None if null_default else number(0)
            picked = exp.Case(ifs=[exp.If(this=matches(term), true=source(name))], default=default)
            total: exp.Expression = exp.Sum(this=picked)
            if null_default:
                total = exp.Coalesce(this=total, expressions=[number(0)])
            projections.append(alias(total, column_name(term)))
    return projections


def exposure_events(matches: Callable[[int], exp.Expression]) -> exp.Expression:
    """``COUNT(CASE WHEN <exposure term> THEN 1 END)``: the group's exposure events."""
    return exp.Count(this=exp.Case(ifs=[exp.If(this=matches(EXPOSURE_TERM), true=number(1))]))


def per_unit(
    plan: Plan, node: Expr, window: AttributionWindow | None = None, *, pre: bool = False
) -> exp.Expression:
    """A metric expression over one unit's goal terms (``count_<term>`` and ``value_<term>``
    columns), in its metric's attribution ``window`` when the plan's terms carry windows, or over
    the pre-exposure terms (``pre``, a CUPED covariate)."""
    if isinstance(node, Number):
        value = node.value
        return exp.Literal.number(format(value, "f") if isinstance(value, Decimal) else value)
    if isinstance(node, Goal):
        term = plan.term_index(pre_key(node.key)) if pre else plan.term_index(node.key, window)
        if node.function == "value":
            return column(value_column(term))
        if node.function == "count":
            return column(count_column(term))
        positive = exp.GT(this=column(count_column(term)), expression=number(0))
        return exp.Case(ifs=[exp.If(this=positive, true=number(1))], default=number(0))
    if isinstance(node, Negate):
        return exp.Neg(this=operand(per_unit(plan, node.operand, window, pre=pre)))
    assert isinstance(node, BinaryOp)
    left = operand(per_unit(plan, node.left, window, pre=pre))
    right = operand(per_unit(plan, node.right, window, pre=pre))
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


def operand(node: exp.Expression) -> exp.Expression:
    """Parentheses around a compound operand: the tree's shape is the expression's shape."""
    return exp.Paren(this=node) if isinstance(node, (exp.Binary, exp.Neg)) else node


def as_double(expression: exp.Expression, double: bool) -> exp.Expression:
    """A per-unit expression as a double (numbers and ``unique`` alone are integers)."""
    return expression if double else exp.Cast(this=expression, to=exp.DataType.build("DOUBLE"))


def covariate_id(metric_id: str) -> str:
    """The name of a metric row's covariate among the rows winsorization caps."""
    return f"{metric_id} before the first exposure"
