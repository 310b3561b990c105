"""Metric rows → exact ratio statistics by the delta method (Deng, Knoblich, Lu, KDD 2018).

Per metric and variant the rows carry, over the exposed units, ``n`` and the sums of the per-unit
nominator x and denominator y, their squares and their product. The metric is the ratio
``R = Σx / Σy`` and its variance, to first order,

    Var(R) ≈ (1/n) · [ s_x² / ȳ² − 2 x̄ s_xy / ȳ³ + x̄² s_y² / ȳ⁴ ]

with x̄, ȳ the per-unit means and s the sample (co)variances. When y ≡ 1 this is s_x² / n, the
variance of a mean. The reported ``std`` is ``sqrt(n · Var(R))`` so that ``std² / count`` is the
variance of the metric, as for goal rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from expsql.contracts import (
    EXPOSURE_ROW_ID,
    METRIC_CLUSTER_VALUES,
    METRIC_COVARIATE_VALUES,
    METRIC_QUANTILE_VALUES,
    METRIC_VALUES,
    check_row_id,
    metric_row_id,
    overall_row_id,
)
from expsql.models import Experiment
from expsql.stats.rows import codes


@dataclass(frozen=True)
class MetricSums:
    """Metric rows pivoted to ``sums[row id, variant, column]``; absent rows are zeros.

    ``covariates[row id, variant, column]`` holds the CUPED sums (``METRIC_COVARIATE_VALUES``)
    when the rows carry them, NaN where a row's are NULL (metrics that are not adjusted);
    ``quantiles`` and ``clusters`` the quantile metrics' columns (``METRIC_QUANTILE_VALUES``,
    ``METRIC_CLUSTER_VALUES``), NaN elsewhere. Those are not sums: a duplicate row's last value
    is kept, not added.
    """

    row_ids: dict[str, int]
    variants: tuple[str, ...]
    sums: np.ndarray
    covariates: np.ndarray | None = None
    quantiles: np.ndarray | None = None
    clusters: np.ndarray | None = None

    def column(self, row_id: str, name: str) -> np.ndarray:
        """One column of one row id, per variant (zeros when the warehouse returned no such row)."""
        index = self.row_ids.get(row_id)
        if index is None:
            return np.zeros(len(self.variants))
        return self.sums[index, :, METRIC_VALUES.index(name)]

    @property
    def exposures(self) -> np.ndarray:
        return self.column(EXPOSURE_ROW_ID, "sum_x")


def sum_metric_rows(frame: pd.DataFrame, experiment: Experiment, variants: list[str]) -> MetricSums:
    """Pivot validated metric rows (duplicate rows are summed, the columns are additive)."""
    wanted = [metric_row_id(m.id) for m in experiment.metrics]
    wanted += [check_row_id(c.id) for c in experiment.checks] + [EXPOSURE_ROW_ID]
    wanted += [overall_row_id(m.id) for m in experiment.quantile_metrics()]
    row_ids = {row_id: i for i, row_id in enumerate(dict.fromkeys(wanted))}
    row_codes = codes(frame["metric_id"], list(row_ids))
    variant_codes = codes(frame["exp_variant_id"], variants)
    keep = (row_codes >= 0) & (variant_codes >= 0)
    sums = np.zeros((len(row_ids), len(variants), len(METRIC_VALUES)))
    np.add.at(sums, (row_codes[keep], variant_codes[keep]), frame[list(METRIC_VALUES)].to_numpy(float)[keep])
    covariates = None
    if all(c in frame.columns for c in METRIC_COVARIATE_VALUES):
        # NULL stays NaN: a metric row without covariate sums is not adjusted.
        covariates = np.zeros((len(row_ids), len(variants), len(METRIC_COVARIATE_VALUES)))
        values = frame[list(METRIC_COVARIATE_VALUES)].to_numpy(float)[keep]
        np.add.at(covariates, (row_codes[keep], variant_codes[keep]), values)
    quantiles, clusters = (
        _last_values(frame, names, row_codes, variant_codes, keep, sums.shape[:2])
        for names in (METRIC_QUANTILE_VALUES, METRIC_CLUSTER_VALUES)
    )
    return MetricSums(row_ids, tuple(variants), sums, covariates, quantiles, clusters)


def _last_values(
    frame: pd.DataFrame,
    names: tuple[str, ...],
    row_codes: np.ndarray,
    variant_codes: np.ndarray,
    keep: np.ndarray,
    shape: tuple[int, ...],
) -> np.ndarray | None:
    """``[row id, variant, column]`` of columns that are not additive, NaN where absent."""
    if not all(name in frame.columns for name in names):
        return None
    values = np.full((*shape, len(names)), np.nan)
    values[row_codes[keep], variant_codes[keep]] = frame[list(names)].to_numpy(float)[keep]
    return values


@dataclass(frozen=True)
class RatioStatistics:
    """Per metric × variant: units, ratio, its delta-method variance and the nominator total."""

    n: np.ndarray
    ratio: np.ndarray
    variance: np.ndarray
    sum_x: np.ndarray


def ratio_statistics(
    n: np.ndarray,
    sum_x: np.ndarray,
    sum_x2: np.ndarray,
    sum_y: np.ndarray,
    sum_y2: np.ndarray,
    sum_xy: np.ndarray,
) -> RatioStatistics:
    """``R = Σx/Σy`` and ``Var(R)`` by the delta method, element-wise over any shape."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_x = sum_x / n
        mean_y = sum_y / n
        var_x = (sum_x2 - sum_x * mean_x) / (n - 1)
        var_y = (sum_y2 - sum_y * mean_y) / (n - 1)
        cov_xy = (sum_xy - sum_x * mean_y) / (n - 1)
        ratio = sum_x / sum_y
        variance = (var_x / mean_y**2 - 2 * mean_x * cov_xy / mean_y**3 + mean_x**2 * var_y / mean_y**4) / n
    return RatioStatistics(n, ratio, variance, sum_x)


def metric_statistics(sums: MetricSums, experiment: Experiment) -> RatioStatistics:
    """The ratio statistics of every metric of the experiment, ``(metrics, variants)`` arrays."""
    index = np.array([sums.row_ids[metric_row_id(m.id)] for m in experiment.metrics], dtype=int)
    columns = sums.sums[index] if index.size else np.zeros((0, len(sums.variants), len(METRIC_VALUES)))
    return ratio_statistics(*(columns[:, :, i] for i in range(len(METRIC_VALUES))))
