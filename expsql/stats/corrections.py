"""Multiple-comparison corrections across the treatment variants of each metric, vectorised.

The family of a metric is its treatment variants — chosen by the control's identity, not its
position, so the control may have any name (ep-stats assumes it sorts first, semantics §3.4).
Rows are metrics, columns the family; NaN p-values (untestable variants) take no part and stay
NaN. After adjusting, each confidence interval is widened to the level ``α · p / p_adj``, as
ep-stats does for Holm (docs/stats/multiple.md).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from expsql.stats.ttest import t_quantile

Correction = Literal["holm", "bonferroni", "benjamini-hochberg", "none"]
CORRECTIONS: tuple[str, ...] = get_args(Correction)


def check_correction(method: str) -> None:
    """:raises ValueError: ``method`` is not one of :data:`CORRECTIONS`."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")


def adjust_p_values(p_values: np.ndarray, method: Correction) -> np.ndarray:
    """Adjusted p-values, row by row; each row is one family.

    - ``bonferroni``: ``min(1, m·p)``;
    - ``holm``: step-down, ``max_{j≤i} (m − j + 1)·p_(j)``, capped at 1;
    - ``benjamini-hochberg``: step-up, ``min_{j≥i} m·p_(j)/j``, capped at 1;
    - ``none``: unchanged.

    ``m`` is the number of non-NaN p-values in the row.
    """
    check_correction(method)
    p_values = np.asarray(p_values, dtype=float)
    if method == "none" or p_values.size == 0:
        return p_values.copy()
    family_size = np.sum(~np.isnan(p_values), axis=1, keepdims=True)
    if method == "bonferroni":
        return np.minimum(p_values * family_size, 1.0)
    order = np.argsort(p_values, axis=1)  # NaN sorts last, so it never precedes a real p-value
    ordered = np.take_along_axis(p_values, order, axis=1)
    rank = np.arange(1, p_values.shape[1] + 1)[np.newaxis, :]
    if method == "holm":
        adjusted = np.maximum.accumulate(ordered * (family_size - rank + 1), axis=1)
    else:
        scaled = np.where(np.isnan(ordered), np.inf, ordered * family_size / rank)
        adjusted = np.minimum.accumulate(scaled[:, ::-1], axis=1)[:, ::-1]
        adjusted = np.where(np.isnan(ordered), np.nan, adjusted)
    adjusted = np.minimum(adjusted, 1.0)
    result = np.empty_like(adjusted)
    np.put_along_axis(result, order, adjusted, axis=1)
    return result


def widened_confidence_intervals(
    p_values: np.ndarray,
    adjusted: np.ndarray,
    standard_error: np.ndarray,
    degrees_of_freedom: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """Half-widths at the adjusted level ``α · p / p_adj`` (ratio 1 where it is 0/0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.nan_to_num(p_values / adjusted, nan=1.0)
        adjusted_alpha = ratio * alpha
        return standard_error * t_quantile(1 - adjusted_alpha / 2, degrees_of_freedom)
