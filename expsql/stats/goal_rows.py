"""Goal rows → per-variant sums, with ep-stats' semantics (semantics §1.3, §2.1).

The rows are summed once into a ``(goal key, variant, column)`` cube; each expression is then
evaluated on whole per-variant vectors. A goal reads its "value" column and its "square" column:

=========  ============  ==============
function   value column  square column
=========  ============  ==============
count()    count         sum_sqr_count
value()    sum_value     sum_sqr_value
unique()   count_unique  count_unique
=========  ============  ==============

``+ - * /`` act on both sides, ``~`` subtracts values and adds squares, a number ``k`` is ``k`` on
the value side and ``k²`` on the square side, a negation flips the value and leaves the square.
A goal row matches a goal when ``unit_type, agg_type, goal`` are equal and every dimension column
of the experiment equals the goal's ep-stats label (``''`` where the goal does not filter on it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from expsql.contracts import GOAL_VALUES
from expsql.grammar.ast import BinaryOp, Expr, Goal, GoalKey, Negate, Number
from expsql.models import Experiment
from expsql.stats.rows import codes, dimension_names

#: Index into :data:`~expsql.contracts.GOAL_VALUES` of each function's (value, square) column.
_COLUMNS: dict[str, tuple[int, int]] = {
    "count": (GOAL_VALUES.index("count"), GOAL_VALUES.index("sum_sqr_count")),
    "value": (GOAL_VALUES.index("sum_value"), GOAL_VALUES.index("sum_sqr_value")),
    "unique": (GOAL_VALUES.index("count_unique"), GOAL_VALUES.index("count_unique")),
}

Sides = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class GoalTotals:
    """Goal rows summed per goal key and variant: ``totals[key, variant, column]``."""

    keys: dict[GoalKey, int]
    variants: tuple[str, ...]
    totals: np.ndarray
    exposures: np.ndarray

    def evaluate(self, expression: Expr, cache: dict[Expr, Sides] | None = None) -> Sides:
        """The expression's (value side, square side), each one number per variant."""
        cache = {} if cache is None else cache
        return _evaluate(expression, self, cache)


def sum_goal_rows(
    frame: pd.DataFrame,
    experiment: Experiment,
    variants: list[str],
    keys: list[GoalKey] | None = None,
    key_codes: np.ndarray | None = None,
) -> GoalTotals:
    """Sum validated goal rows into a :class:`GoalTotals`; absent goals and variants stay 0.

    ``keys`` are the experiment's goal keys and ``key_codes`` each row's index among them
    (:func:`goal_key_codes`), when the caller has them already. A NaN cell makes its sum NaN.
    """
    keys = experiment.goal_keys() if keys is None else keys
    variant_codes = codes(frame["exp_variant_id"], variants)
    key_codes = goal_key_codes(frame, keys) if key_codes is None else key_codes
    matched = (variant_codes >= 0) & (key_codes >= 0)
    totals = np.zeros((len(keys), len(variants), len(GOAL_VALUES)))
    np.add.at(
        totals,
        (key_codes[matched], variant_codes[matched]),
        frame[list(GOAL_VALUES)].to_numpy(dtype=float)[matched],
    )
    # Exposures sum every exposure row whatever its dimension columns hold, as ep-stats does.
    is_exposure = exposure_rows(frame, experiment) & (variant_codes >= 0)
    exposures = np.bincount(
        variant_codes[is_exposure],
        weights=frame["count"].to_numpy(dtype=float)[is_exposure],
        minlength=len(variants),
    )
    return GoalTotals({key: i for i, key in enumerate(keys)}, tuple(variants), totals, exposures)


def goal_key_codes(frame: pd.DataFrame, keys: list[GoalKey]) -> np.ndarray:
    """Per row, the index in ``keys`` of the goal key it matches, -1 for rows of no such goal."""
    dimensions = dimension_names(keys)
    key_table = pd.DataFrame(
        {
            "unit_type": [k.unit_type for k in keys],
            "agg_type": [k.agg_type for k in keys],
            "goal": [k.goal for k in keys],
            **{d: [k.dimension_labels.get(d, "") for k in keys] for d in dimensions},
            "_key": np.arange(len(keys)),
        }
    )
    labels = frame[["unit_type", "agg_type", "goal", *dimensions]].assign(_row=np.arange(len(frame)))
    matched = labels.merge(key_table, on=["unit_type", "agg_type", "goal", *dimensions], how="inner")
    result = np.full(len(frame), -1, dtype=int)
    result[matched["_row"].to_numpy()] = matched["_key"].to_numpy()
    return result


def exposure_rows(frame: pd.DataFrame, experiment: Experiment) -> np.ndarray:
    """Rows of the exposure goal, whatever their dimension columns hold (ep-stats sums them all)."""
    return (
        (frame["unit_type"] == experiment.unit_type)
        & (frame["agg_type"] == "global")
        & (frame["goal"] == "exposure")
    ).to_numpy()


def _evaluate(node: Expr, totals: GoalTotals, cache: dict[Expr, Sides]) -> Sides:
    if node in cache:
        return cache[node]
    if isinstance(node, Goal):
        value_column, square_column = _COLUMNS[node.function]
        cube = totals.totals[totals.keys[node.key]]
        result = (cube[:, value_column], cube[:, square_column])
    elif isinstance(node, Number):
        k = float(node.value)
        size = len(totals.variants)
        result = (np.full(size, k), np.full(size, k * k))
    elif isinstance(node, Negate):
        value, square = _evaluate(node.operand, totals, cache)
        result = (-value, square)
    elif isinstance(node, BinaryOp):
        left_value, left_square = _evaluate(node.left, totals, cache)
        right_value, right_square = _evaluate(node.right, totals, cache)
        result = _combine(node.operator, left_value, right_value, left_square, right_square)
    else:  # pragma: no cover - the AST has no other node
        raise TypeError(f"unknown expression node {node!r}")
    cache[node] = result
    return result


def _combine(
    operator: str, left: np.ndarray, right: np.ndarray, left_square: np.ndarray, right_square: np.ndarray
) -> Sides:
    with np.errstate(divide="ignore", invalid="ignore"):
        if operator == "+":
            return left + right, left_square + right_square
        if operator == "-":
            return left - right, left_square - right_square
        if operator == "~":
            return left - right, left_square + right_square
        if operator == "*":
            return left * right, left_square * right_square
        return left / right, left_square / right_square


def metric_sums(totals: GoalTotals, experiment: Experiment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per metric × variant: ``count`` (denominator), ``sum_value`` and ``sum_sqr_value`` (nominator)."""
    sum_value, sum_sqr_value = evaluate_all(totals, [m.nominator_expr for m in experiment.metrics])
    count, _ = evaluate_all(totals, [m.denominator_expr for m in experiment.metrics])
    return count, sum_value, sum_sqr_value


def evaluate_all(totals: GoalTotals, expressions: list[Expr]) -> Sides:
    """Value and square sides of many expressions, ``(expressions, variants)`` each.

    Expressions that are a single goal (most metrics' sides) are gathered in one indexing step;
    the others are evaluated node by node on per-variant vectors, sharing common subexpressions.
    """
    shape = (len(expressions), len(totals.variants))
    values, squares = np.zeros(shape), np.zeros(shape)
    single = [i for i, e in enumerate(expressions) if isinstance(e, Goal)]
    if single:
        goals = [expressions[i] for i in single]
        cube = totals.totals[[totals.keys[g.key] for g in goals]]  # type: ignore[union-attr]
        columns = np.array([_COLUMNS[g.function] for g in goals])  # type: ignore[union-attr]
        variants = np.arange(len(totals.variants))
        rows = np.arange(len(goals))[:, np.newaxis]
        values[single] = cube[rows, variants, columns[:, [0]]]
        squares[single] = cube[rows, variants, columns[:, [1]]]
    cache: dict[Expr, Sides] = {}
    for i in sorted(set(range(len(expressions))) - set(single)):
        values[i], squares[i] = totals.evaluate(expressions[i], cache)
    return values, squares
