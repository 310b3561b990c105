"""Which row contract a frame holds, recognised from its columns (:mod:`expsql.contracts`): a
frame that fits none gets a :class:`~expsql.errors.RowsError` listing what each contract misses.

Above :mod:`.rows` and :mod:`.wide_rows`, which both read cells through :mod:`.rows`' helpers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from expsql.contracts import GOAL_KEYS, GOAL_VALUES, METRIC_KEYS, METRIC_VALUES, UNIT_KEYS, UNIT_VALUES
from expsql.errors import RowsError
from expsql.stats.rows import Contract
from expsql.stats.wide_rows import wide_misfit


def detect_contract(frame: pd.DataFrame, dimensions: Sequence[str]) -> Contract:
    """Which row contract the frame follows; a RowsError naming the missing columns otherwise."""
    columns = set(frame.columns)
    metric_missing = [c for c in (*METRIC_KEYS, *METRIC_VALUES) if c not in columns]
    goal_missing = [c for c in (*GOAL_KEYS, *GOAL_VALUES) if c not in columns]
    if not metric_missing:
        return "metric rows"
    if not goal_missing:
        _require_dimensions("goal rows", columns, dimensions)
        return "goal rows"
    recognised = _detect_other_contract(frame, dimensions)
    if recognised is not None:
        return recognised
    raise RowsError(
        "the rows fit no row contract; goal rows miss columns "
        + ", ".join(goal_missing)
        + "; metric rows miss columns "
        + ", ".join(metric_missing)
        + _other_contracts_missing(frame)
    )


def _require_dimensions(contract: str, columns: set[str], dimensions: Sequence[str]) -> None:
    missing = [d for d in dimensions if d not in columns]
    if missing:
        raise RowsError(
            f"{contract} lack the dimension columns the experiment filters on: " + ", ".join(missing)
        )


def _detect_other_contract(frame: pd.DataFrame, dimensions: Sequence[str]) -> Contract | None:
    """Unit rows (all their columns present) or wide rows (:func:`wide_misfit` finds no fault)."""
    columns = set(frame.columns)
    if all(c in columns for c in (*UNIT_KEYS, *UNIT_VALUES)):
        _require_dimensions("unit rows", columns, dimensions)
        return "unit rows"
    if "goal" not in columns and "metric_id" not in columns and wide_misfit(frame) is None:
        return "wide rows"
    return None


def _other_contracts_missing(frame: pd.DataFrame) -> str:
    unit_missing = [c for c in (*UNIT_KEYS, *UNIT_VALUES) if c not in set(frame.columns)]
    return f"; unit rows miss columns {', '.join(unit_missing)}; wide rows need {wide_misfit(frame)}"
