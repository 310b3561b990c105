"""Rows a warehouse returned against the oracle's: the first difference, said as a row.

Keys (every column that is not a sum) must match exactly, NULL equal only to NULL; counts
(``n``, ``count``, ``sum_sqr_count``, ``count_unique``) exactly; every other sum to a relative
1e-9 (absolute 1e-9 near zero), NULL only where NULL is expected (CUPED's columns of metrics
that are not adjusted, the quantile columns of other metrics).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import (
    GOAL_VALUES,
    METRIC_CLUSTER_VALUES,
    METRIC_COVARIATE_VALUES,
    METRIC_QUANTILE_VALUES,
    METRIC_VALUES,
    UNIT_COVARIATE_VALUES,
)

NUMBERS = frozenset(
    (
        *GOAL_VALUES,
        *METRIC_VALUES,
        *METRIC_COVARIATE_VALUES,
        *UNIT_COVARIATE_VALUES,
        *METRIC_QUANTILE_VALUES,
        *METRIC_CLUSTER_VALUES,
    )
)
EXACT = frozenset(("n", "count", "sum_sqr_count", "count_unique", "quantile_n", "quantile_units"))
NULL = "<NULL>"


def _key_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return NULL
    return str(value)


def _number(value: Any) -> float:
    if value is None or value is pd.NA:
        return math.nan
    return float(value)


def _row(frame: pd.DataFrame, position: int) -> dict[str, Any]:
    return {name: frame.iloc[position][name] for name in frame.columns}


def first_difference(actual: pd.DataFrame, expected: pd.DataFrame, *, rtol: float = 1e-9) -> str | None:
    """``None`` when ``actual`` holds the rows of ``expected`` (in any order), else what differs
    first: the columns, a missing or extra row, or a row's value with both rows shown."""
    if list(actual.columns) != list(expected.columns):
        return f"columns {list(actual.columns)}, expected {list(expected.columns)}"
    keys = [c for c in expected.columns if c not in NUMBERS]
    left = actual.assign(_key=actual[keys].map(_key_text).agg("\x1f".join, axis=1) if keys else "")
    right = expected.assign(_key=expected[keys].map(_key_text).agg("\x1f".join, axis=1) if keys else "")
    for name, frame in (("returned", left), ("expected", right)):
        duplicated = frame["_key"].duplicated()
        if duplicated.any():
            position = int(np.flatnonzero(duplicated.to_numpy())[0])
            return f"two {name} rows with the keys of {_row(frame.drop(columns='_key'), position)}"
    left = left.sort_values("_key", kind="stable").reset_index(drop=True)
    right = right.sort_values("_key", kind="stable").reset_index(drop=True)
    missing = sorted(set(right["_key"]) - set(left["_key"]))
    if missing:
        row = right[right["_key"] == missing[0]].drop(columns="_key")
        return f"{len(missing)} expected rows missing, the first: {_row(row, 0)}"
    extra = sorted(set(left["_key"]) - set(right["_key"]))
    if extra:
        row = left[left["_key"] == extra[0]].drop(columns="_key")
        return f"{len(extra)} rows not expected, the first: {_row(row, 0)}"
    for position in range(len(right)):
        for column in (c for c in expected.columns if c in NUMBERS):
            got, want = _number(left.at[position, column]), _number(right.at[position, column])
            if math.isnan(got) or math.isnan(want):
                same = math.isnan(got) and math.isnan(want)
            elif column in EXACT:
                same = got == want
            else:
                same = math.isclose(got, want, rel_tol=rtol, abs_tol=1e-9)
            if not same:
                returned = _row(left.drop(columns="_key"), position)
                wanted = _row(right.drop(columns="_key"), position)
                return f"{column} is {got!r}, expected {want!r}: returned {returned}, expected {wanted}"
    return None
