"""Percentile winsorization of a metric's per-unit nominator (ep-stats 2.5.9, semantics §3.8).

A metric with ``outlier_upper_percentile = u`` and/or ``outlier_lower_percentile = l`` has its
per-unit nominator clipped to the pooled quantiles ``[q(l/100), q(1 − u/100)]`` of all exposed
units (every variant together, zeros included, pandas' linear interpolation); a side whose
percentile is 0 or unset is left alone, the denominator never changes. Clipping needs per-unit
values, so only unit rows (here) and metric rows (clipped in SQL) can honour it; goal rows and wide
rows hold per-variant sums only, and evaluating such a metric on them is an error, not a silent
no-op as in ep-stats' ``evaluate_agg``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expsql.errors import RowsError
from expsql.models import Experiment, Metric


def is_winsorized(metric: Metric) -> bool:
    """Whether the metric asks for any clipping (a percentile of 0 clips nothing)."""
    return bool(metric.outlier_upper_percentile) or bool(metric.outlier_lower_percentile)


def refuse_winsorization(experiment: Experiment, contract: str) -> None:
    """RowsError naming the winsorized metrics, for contracts without per-unit values."""
    named = [f"metric {m.id} ({m.name})" for m in experiment.metrics if is_winsorized(m)]
    if named:
        raise RowsError(
            f"{', '.join(named)} set outlier percentiles, which need per-unit values: {contract} hold "
            "per-variant sums only; evaluate unit rows or metric rows instead"
        )


def winsorize(values: np.ndarray, metric: Metric) -> np.ndarray:
    """The per-unit nominator clipped to the metric's pooled percentile bounds (a new array)."""
    if not is_winsorized(metric) or values.size == 0:
        return values
    pooled = pd.Series(values)
    lower = upper = None
    if metric.outlier_lower_percentile:
        lower = float(pooled.quantile(metric.outlier_lower_percentile / 100))
    if metric.outlier_upper_percentile:
        upper = float(pooled.quantile(1 - metric.outlier_upper_percentile / 100))
    return np.clip(values, lower, upper)
