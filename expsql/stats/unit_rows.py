"""Unit rows → metric-rows sums, exactly (contract in :mod:`expsql.contracts`, semantics §2.2).

Unit rows hold each unit's ``count`` and ``sum_value`` per goal term, the input of ep-stats'
``evaluate_by_unit``. Unlike ep-stats, which reads one goal per side and ignores the function, this
module evaluates every expression per unit with the metric-rows semantics — ``count()`` is the
unit's Σcount, ``value()`` its Σsum_value, ``unique()`` 1 if Σcount > 0; ``+ - * / ~``, numbers and
unary minus included, a division by zero giving 0 for that unit — over the units whose exposure
count is above 0. Then it forms the metric-rows sums (``n, sum_x, sum_x2, sum_y, sum_y2, sum_xy``
per metric, check and exposure row), so the statistics are those of metric rows of the same data.
A metric's outlier percentiles clip its per-unit nominator here (:mod:`expsql.stats.outliers`).

CUPED: unit rows with ``pre_count, pre_sum_value`` (the unit's pre-exposure ``SUM(cnt)`` and
``SUM(value)`` of the term) give each adjusted metric its covariate: the same expressions evaluated
on the pre-exposure values, every exposure goal reading 1 per unit (it has no pre-exposure value), a
winsorized nominator capped at the percentiles of all exposed units' pre-exposure nominators. The
covariate sums go into :attr:`MetricSums.covariates` as metric rows would carry them.

Everything is vectorised: the unit of each row is found by a sorted search, each goal term is one
``bincount`` into a vector over the exposed units, and expressions act on those vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from expsql.contracts import (
    EXPOSURE_ROW_ID,
    METRIC_COVARIATE_VALUES,
    METRIC_VALUES,
    UNIT_COVARIATE_VALUES,
    UNIT_KEYS,
    UNIT_VALUES,
    check_row_id,
    metric_row_id,
)
from expsql.errors import RowsError
from expsql.grammar.ast import BinaryOp, Expr, Goal, GoalKey, Negate, Number
from expsql.models import Experiment
from expsql.stats.goal_rows import goal_key_codes
from expsql.stats.metric_rows import MetricSums
from expsql.stats.outliers import winsorize
from expsql.stats.rows import as_text, codes, covariate_columns, reject_other_experiments, strict_numbers


def validate_unit_rows(
    frame: pd.DataFrame, experiment: Experiment, dimensions: Sequence[str]
) -> pd.DataFrame:
    """Keys, ``unit_id`` and dimension columns as text, ``count, sum_value`` (and the CUPED
    ``pre_count, pre_sum_value`` when present, NULL counting as 0) as floats.

    RowsError on rows of another experiment, non-numeric values or a negative count.
    """
    clean = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column in (*UNIT_KEYS, *dimensions):
        clean[column] = _text(frame[column])
    for column in (*UNIT_VALUES, *covariate_columns(frame, UNIT_COVARIATE_VALUES)):
        clean[column] = strict_numbers(frame[column], column)
    reject_other_experiments(clean["exp_id"], experiment, "unit rows")
    negative = np.flatnonzero(clean["count"].to_numpy() < 0)
    if negative.size:
        row = int(negative[0])
        unit, goal, count = (str(clean.at[row, c]) for c in ("unit_id", "goal", "count"))
        raise RowsError(
            f"column 'count' must not be negative: {negative.size} row(s), "
            f"e.g. row {row} (unit_id={unit!r}, goal={goal!r}) has {count}"
        )
    return clean


def _text(column: pd.Series) -> pd.Series:
    """Text as :func:`~expsql.stats.rows.as_text` makes it, without copying a string column
    into Python objects (a million rows of pandas' string dtype stay strings)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.fillna("")
    return as_text(column)


class _Units:
    """The exposed units (variant, unit_id) in sorted order, and the goal-term vectors over them."""

    def __init__(self, frame: pd.DataFrame, experiment: Experiment, variants: list[str], keys: list[GoalKey]):
        variant_codes = codes(frame["exp_variant_id"], variants)
        unit_codes, _ = pd.factorize(frame["unit_id"])
        # One integer per (variant, unit): a unit seen in two variants is two units, as in metric rows.
        stride = int(unit_codes.max(initial=0)) + 1
        unit_keys = variant_codes.astype(np.int64) * stride + unit_codes
        known = variant_codes >= 0
        # The exposure is matched like any goal term (dimension columns ''), so that the exposed
        # units, the exposure row and count(<unit_type>.global.exposure) all read the same rows.
        key_codes = goal_key_codes(frame, keys)
        is_exposure = known & (key_codes == keys.index(experiment.exposure_goal.key))
        exposure_units, inverse = np.unique(unit_keys[is_exposure], return_inverse=True)
        exposure_counts = np.bincount(inverse, weights=frame["count"].to_numpy()[is_exposure])
        exposed = exposure_counts > 0
        self.keys = exposure_units[exposed]
        self.exposures = exposure_counts[exposed]
        self.variant = (self.keys // stride).astype(int)
        self.size = self.keys.size
        # Each row's exposed unit, if any: rows of units without exposure take no part.
        position = np.minimum(np.searchsorted(self.keys, unit_keys), max(self.size - 1, 0))
        hit = known & (self.keys[position] == unit_keys) if self.size else np.zeros(len(frame), dtype=bool)
        # Per goal key, the units' (Σcount, Σsum_value); rows of one unit and key summed first.
        read = hit & (key_codes >= 0)
        flat = key_codes[read] * self.size + position[read]
        cells = len(keys) * self.size
        names = [*UNIT_VALUES, *(c for c in UNIT_COVARIATE_VALUES if c in frame.columns)]
        sums = [
            np.bincount(flat, weights=frame[name].to_numpy()[read], minlength=cells).reshape(len(keys), -1)
            for name in names
        ]
        self._terms = {key: (sums[0][i], sums[1][i]) for i, key in enumerate(keys)}
        self.has_pre = len(sums) == 4
        self._pre_terms = (
            {key: (sums[2][i], sums[3][i]) for i, key in enumerate(keys)} if self.has_pre else {}
        )
        # An exposure goal has no pre-exposure value: it reads 1 per unit (as the compiler's covariates).
        self._exposure = experiment.exposure_goal.goal

    def term(self, goal: Goal, pre: bool = False) -> np.ndarray:
        if pre and goal.goal == self._exposure:
            return np.ones(self.size)
        counts, values = (self._pre_terms if pre else self._terms)[goal.key]
        if goal.function == "count":
            return counts
        if goal.function == "value":
            return values
        return (counts > 0).astype(float)


def _evaluator(units: _Units, pre: bool = False) -> Callable[[Expr], np.ndarray]:
    """Evaluate an expression to one value per exposed unit, sharing common subexpressions;
    ``pre``: on the units' pre-exposure values (the CUPED covariate)."""
    cache: dict[Expr, np.ndarray] = {}

    def evaluate(node: Expr) -> np.ndarray:
        if node in cache:
            return cache[node]
        if isinstance(node, Goal):
            result = units.term(node, pre)
        elif isinstance(node, Number):
            result = np.full(units.size, float(node.value))
        elif isinstance(node, Negate):
            result = -evaluate(node.operand)
        elif isinstance(node, BinaryOp):
            result = _combine(node.operator, evaluate(node.left), evaluate(node.right))
        else:  # pragma: no cover - the AST has no other node
            raise TypeError(f"unknown expression node {node!r}")
        cache[node] = result
        return result

    return evaluate


def _combine(operator: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if operator == "+":
        return left + right
    if operator in ("-", "~"):
        return left - right
    if operator == "*":
        return left * right
    quotient = np.zeros(np.broadcast(left, right).shape)
    np.divide(left, right, out=quotient, where=right != 0)
    return quotient


def sum_unit_rows(
    frame: pd.DataFrame, experiment: Experiment, variants: list[str], keys: list[GoalKey]
) -> MetricSums:
    """Validated unit rows → the :class:`~expsql.stats.metric_rows.MetricSums` metric rows would give."""
    units = _Units(frame, experiment, variants, keys)
    evaluate = _evaluator(units)
    pairs: list[tuple[str, np.ndarray, np.ndarray]] = []
    for metric in experiment.metrics:
        nominator = winsorize(evaluate(metric.nominator_expr), metric)
        pairs.append((metric_row_id(metric.id), nominator, evaluate(metric.denominator_expr)))
    for check in experiment.checks:
        denominator = evaluate(check.denominator_expr)
        nominator = np.zeros(units.size) if check.nominator_expr is None else evaluate(check.nominator_expr)
        pairs.append((check_row_id(check.id), nominator, denominator))
    pairs.append((EXPOSURE_ROW_ID, units.exposures, units.exposures))
    row_ids = {row_id: i for i, row_id in enumerate(dict.fromkeys(row_id for row_id, _, _ in pairs))}
    sums = np.zeros((len(row_ids), len(variants), len(METRIC_VALUES)))
    n = np.bincount(units.variant, minlength=len(variants)).astype(float)
    for row_id, x, y in pairs:
        sums[row_ids[row_id]] = np.column_stack(
            [n, _per_variant(units, len(variants), (x, x * x, y, y * y, x * y))]
        )
    covariates = None
    if units.has_pre:
        # NaN on the rows CUPED does not adjust (checks, exposures, metrics with cuped: false).
        covariates = np.full((len(row_ids), len(variants), len(METRIC_COVARIATE_VALUES)), np.nan)
        pre = _evaluator(units, pre=True)
        post = {row_id: (x, y) for row_id, x, y in pairs}
        for metric in experiment.cuped_metrics():
            row_id = metric_row_id(metric.id)
            x, y = post[row_id]
            xc = winsorize(pre(metric.nominator_expr), metric)
            yc = pre(metric.denominator_expr)
            columns = (xc, xc * xc, yc, yc * yc, xc * yc, x * xc, x * yc, y * xc, y * yc)
            covariates[row_ids[row_id]] = _per_variant(units, len(variants), columns)
    return MetricSums(row_ids, tuple(variants), sums, covariates)


def _per_variant(units: _Units, variants: int, columns: Sequence[np.ndarray]) -> np.ndarray:
    """``(variants, len(columns))``: each per-unit column summed over each variant's units."""
    return np.column_stack([np.bincount(units.variant, weights=c, minlength=variants) for c in columns])
