"""Wide rows → goal rows, as ep-stats' ``evaluate_wide_agg`` reads them (semantics §2.3).

Wide rows are the ad-hoc per-variant table an analyst exports by hand: one row per variant, the
experiment id first, the variant id second (whatever the headers say), then one column per goal
with the variant's total, e.g. ``exp, variant, views, bookings, bookings_squared``. A column whose
name contains ``square`` holds the sum of squares of the goal named by dropping its last ``_``
segment (``bookings_squared`` → ``bookings``); without one, the sum of squares is the total itself
(per-unit values are assumed 0/1, x² = x).

Each goal column becomes a goal row of ``<unit_type>.global.<goal>`` with ``sum_value`` = the total,
``sum_sqr_value`` = the squares and ``count = sum_sqr_count = count_unique = 0``, as in ep-stats; the
metrics are therefore goal-name metrics, ``value(<unit_type>.global.<goal>)`` on each side (the
``numerator``/``denominator`` shorthand of :func:`expsql.models.expand_goal_names`). There is no
exposure goal, so exposures are 0. Where ep-stats silently evaluates zeros, this module raises a
:class:`~expsql.errors.RowsError`: a metric reading a goal that has no column, or reading it with
``count()``/``unique()``, a dimension or another unit or aggregation type, which wide rows cannot carry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from expsql.contracts import GOAL_KEYS, GOAL_VALUES, METRIC_KEYS, UNIT_KEYS
from expsql.errors import RowsError
from expsql.grammar.ast import Expr, goals
from expsql.models import Experiment
from expsql.stats.rows import as_text, strict_numbers

#: Column names that belong to the other contracts: a frame holding one is not wide.
_OTHER_CONTRACTS = frozenset({*GOAL_KEYS[2:], *METRIC_KEYS[2:], *UNIT_KEYS[5:]})


def wide_misfit(frame: pd.DataFrame) -> str | None:
    """Why the frame is not wide rows, or ``None`` when it is.

    Wide: at least three columns, none of them a key column of another contract (``goal``,
    ``metric_id``, ``unit_id``, ...), and every column after the first two numeric (a text column,
    as read from a CSV, counts as numeric when any of its cells reads as a number).
    """
    columns = [str(c) for c in frame.columns]
    if len(columns) < 3:
        return "at least three columns (experiment id, variant id, goals)"
    foreign = [c for c in columns if c in _OTHER_CONTRACTS]
    if foreign:
        return f"no key columns of the other contracts (found {', '.join(foreign)})"
    pairs = zip(columns[2:], frame.columns[2:], strict=True)
    text = [name for name, column in pairs if not _numeric(frame[column])]
    if text:
        return f"numeric goal columns after the first two (text in {', '.join(text)})"
    return None


def _numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    return bool(pd.to_numeric(column, errors="coerce").notna().any())


def wide_goal_rows(frame: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Validated goal rows (text keys, float values) equivalent to the wide rows ``frame``."""
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    experiment_column, variant_column, *value_columns = columns
    squares = {c: c.rsplit("_", 1)[0] for c in value_columns if "square" in c}
    totals = [c for c in value_columns if c not in squares]
    _check_squares(squares, totals)
    _check_goals(experiment, totals, variant_column)
    exp_ids = as_text(frame[experiment_column])
    foreign = sorted(set(exp_ids) - {experiment.id})
    if foreign:
        shown = ", ".join(repr(e) for e in foreign[:5])
        raise RowsError(
            f"wide rows: the first column ({experiment_column!r}) holds the experiment id, which is "
            f"{shown} instead of {experiment.id!r} in some rows; filter the rows to one experiment"
        )
    variants = as_text(frame[variant_column])
    numbers = {c: strict_numbers(frame[c], c) for c in value_columns}
    square_of = {goal: square for square, goal in squares.items()}
    parts = []
    for goal in totals:
        total = numbers[goal]
        square = numbers[square_of[goal]] if goal in square_of else total
        bad = np.flatnonzero(square.to_numpy() < 0)
        if bad.size:
            origin = f"column {square_of.get(goal, goal)!r}" + ("" if goal in square_of else " (x² = x)")
            raise RowsError(
                f"wide rows: {origin} gives goal {goal!r} a negative sum of squares in row {int(bad[0])}"
            )
        zeros = np.zeros(len(frame))
        parts.append(
            pd.DataFrame(
                {
                    "exp_id": exp_ids,
                    "exp_variant_id": variants,
                    "unit_type": experiment.unit_type,
                    "agg_type": "global",
                    "goal": goal,
                    "count": zeros,
                    "sum_sqr_count": zeros,
                    "sum_value": total.to_numpy(),
                    "sum_sqr_value": square.to_numpy(),
                    "count_unique": zeros,
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GOAL_KEYS} | dict.fromkeys(GOAL_VALUES, 0.0))
    return pd.concat(parts, ignore_index=True)


def _check_squares(squares: dict[str, str], totals: Sequence[str]) -> None:
    for square, goal in squares.items():
        if goal not in totals:
            raise RowsError(
                f"wide rows: column {square!r} holds the squares of goal {goal!r}, which has no column"
            )
    seen: dict[str, str] = {}
    for square, goal in squares.items():
        if goal in seen:
            raise RowsError(f"wide rows: columns {seen[goal]!r} and {square!r} both hold squares of {goal!r}")
        seen[goal] = square


def _check_goals(experiment: Experiment, totals: Sequence[str], variant_column: str) -> None:
    """Every goal the metrics and checks read must be a ``value()`` of a column of the wide rows."""
    for where, expression in _expressions(experiment):
        for goal in goals(expression):
            if (
                goal.function != "value"
                or goal.unit_type != experiment.unit_type
                or goal.agg_type != "global"
                or goal.dimensions
            ):
                raise RowsError(
                    f"wide rows hold one total per variant and goal, read as "
                    f"value({experiment.unit_type}.global.<goal>); {where} reads {goal}"
                )
            if goal.goal == variant_column:
                raise RowsError(
                    f"wide rows: the second column ({variant_column!r}) is read as the variant id, yet "
                    f"{where} reads it as a goal; put the experiment id first and the variant id second"
                )
            if goal.goal not in totals:
                raise RowsError(
                    f"wide rows have no column {goal.goal!r}, which {where} reads; "
                    f"goal columns: {', '.join(totals) or 'none'}"
                )


def _expressions(experiment: Experiment) -> Iterator[tuple[str, Expr]]:
    for metric in experiment.metrics:
        yield f"metric {metric.id} ({metric.name})", metric.nominator_expr
        yield f"metric {metric.id} ({metric.name})", metric.denominator_expr
    for check in experiment.checks:
        if check.nominator_expr is not None:
            yield f"check {check.id} ({check.name})", check.nominator_expr
        yield f"check {check.id} ({check.name})", check.denominator_expr
