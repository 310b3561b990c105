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

from expsql.models import Metric


def winsorize(values: np.ndarray, metric: Metric) -> np.ndarray:
    """The per-unit nominator clipped to the metric's pooled percentile bounds (a new array)."""
    if not metric.winsorized or values.size == 0:
        return values
    pooled = pd.Series(values)
    # The quantiles the SQL compares with (exact decimals), so both paths cap at the same points.
    lower_q, upper_q = metric.winsorizing_quantiles
    lower = None if lower_q is None else float(pooled.quantile(float(lower_q)))
    upper = None if upper_q is None else float(pooled.quantile(float(upper_q)))
    return np.clip(values, lower, upper)
