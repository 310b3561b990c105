"""The quantile metrics' row columns computed with numpy from the data itself: the reference the
SQL of every engine and the stats tests compare with (``np.quantile(..., method="linear")`` is
``PERCENTILE_CONT``'s definition: position ``(n − 1)·level``, linear interpolation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from expsql.contracts import METRIC_CLUSTER_VALUES, METRIC_QUANTILE_VALUES
from expsql.stats.quantiles import interpolated, rank_levels


def quantile_columns(values: np.ndarray, level: float) -> dict[str, float]:
    """``quantile_n, quantile_hat, quantile_lower, quantile_upper`` of one variant's observations."""
    values = np.sort(np.asarray(values, dtype=float))
    n = values.size
    lower, upper = rank_levels(level, np.array(float(n)))
    return {
        "quantile_n": float(n),
        "quantile_hat": interpolated(values, level),
        "quantile_lower": interpolated(values, float(lower)),
        "quantile_upper": interpolated(values, float(upper)),
    }


def cluster_columns(events: Sequence[np.ndarray], estimate: float) -> dict[str, float]:
    """Σa, Σa², Σb, Σb², Σab and the units with an event, per unit ``a`` = its events ≤ ``estimate``."""
    kept = [np.asarray(e, dtype=float) for e in events if len(e)]
    a = np.array([(e <= estimate).sum() for e in kept], dtype=float)
    b = np.array([e.size for e in kept], dtype=float)
    return dict(
        zip(
            METRIC_CLUSTER_VALUES,
            (a.sum(), (a * a).sum(), b.sum(), (b * b).sum(), (a * b).sum(), float(len(kept))),
            strict=True,
        )
    )


def unit_quantile_row(values: np.ndarray, level: float, ignore_zeros: bool = False) -> dict[str, Any]:
    """The quantile columns of a unit quantile over per-unit ``values`` (NULL cluster columns)."""
    values = np.asarray(values, dtype=float)
    if ignore_zeros:
        values = values[values != 0]
    return quantile_columns(values, level) | dict.fromkeys(METRIC_CLUSTER_VALUES, None)


def event_quantile_row(
    events: Sequence[np.ndarray], level: float, ignore_zeros: bool = False
) -> dict[str, Any]:
    """The quantile and cluster columns of an event quantile over each unit's event values."""
    events = [np.asarray(e, dtype=float) for e in events]
    if ignore_zeros:
        events = [e[e != 0] for e in events]
    columns = quantile_columns(np.concatenate(events) if events else np.array([]), level)
    return columns | cluster_columns(events, columns["quantile_hat"])


def empty_quantile_columns() -> dict[str, Any]:
    """The quantile columns of a row that is not a quantile metric's: all NULL."""
    return dict.fromkeys((*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES), None)
