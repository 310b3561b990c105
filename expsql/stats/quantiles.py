"""Quantile metrics: the sample quantile and its variance from the order statistics at the rank bounds.

A quantile metric's metric row carries (:data:`~expsql.contracts.METRIC_QUANTILE_VALUES`) the number
of observations ``n`` (units, or events of an event quantile), the sample quantile ``q̂`` at the
level ``ν`` and the order statistics ``L`` and ``U`` at the levels ``ν ∓ z·sqrt(ν(1 − ν)/n)``, z the
normal 97.5 % quantile: the normal approximation of the binomial interval of the rank of the
population quantile (Price & Bonett 2001, "Estimating the variance of a sample median"). The
distance between them is ``2z`` standard errors of ``q̂``, so

    Var(q̂) ≈ ((U − L) / (2z))² · (n − 1) / n          (iid observations: units)

For an **event** quantile the events of one unit are correlated, and the iid variance is too
small. Deng, Knoblich & Lu (KDD 2018, "Applying the Delta Method in Metric Analytics", §4.3)
scale it by the ratio of the cluster-robust variance of the share of events at or below ``q̂`` to
its iid value ``ν(1 − ν)/n``. Per unit ``a`` = its events at or below ``q̂`` and ``b`` = its
events; the share ``Σa / Σb`` is a ratio metric over the K units, whose delta-method variance is

    σ² = [s_a² − 2 (ā/b̄) s_ab + (ā/b̄)² s_b²] / (K b̄²)      (sample (co)variances over units)

    Var(q̂)_cluster = Var(q̂)_iid · σ² / (ν(1 − ν)/n)

These are GrowthBook's ``QuantileStatistic`` and ``QuantileClusteredStatistic`` (gbstats), the
test-suite oracle, including its rules: ``n_star = n`` here (expsql's SQL computes the rank
bounds at the exact ``n``); the per-observation variance is at least 1e-5 once ``n ≥ 100``; a
quantile whose rank interval leaves [0, 1] (``n ≤ z²·ν/(1 − ν)`` or ``n ≤ z²·(1 − ν)/ν``) cannot be
tested. The metrics table reads ``count = n``, ``mean = q̂`` and the per-observation variance
``n · Var(q̂)``, so the difference test, intervals, corrections and every readout follow as for
any other metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from expsql.contracts import METRIC_CLUSTER_VALUES, METRIC_QUANTILE_VALUES, metric_row_id, overall_row_id
from expsql.errors import RowsError
from expsql.models import Experiment
from expsql.stats.metric_rows import MetricSums

#: The normal quantile of the rank bounds (a 95 % interval), as gbstats fixes it.
RANK_Z = float(stats.norm.ppf(0.975))
#: gbstats' floor on the per-observation variance once there are this many observations.
VARIANCE_FLOOR, FLOOR_FROM = 1e-5, 100


def rank_levels(level: float | np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The levels of the lower and upper rank-bound order statistics, clipped to [0, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        half = RANK_Z * np.sqrt(level * (1 - level) / n)
    return np.clip(level - half, 0, 1), np.clip(level + half, 0, 1)


def interpolated(values: np.ndarray, level: float) -> float:
    """The sample quantile as ``PERCENTILE_CONT`` computes it: position ``(n − 1)·level``, linear."""
    return float(np.quantile(values, level, method="linear")) if values.size else float("nan")


@dataclass(frozen=True)
class QuantileStatistics:
    """Per metric × variant: observations, estimate, per-observation variance, and where the
    quantile cannot be tested (too few observations for its rank interval)."""

    n: np.ndarray
    estimate: np.ndarray
    variance: np.ndarray
    untestable: np.ndarray


def iid_variance(
    n: np.ndarray, lower: np.ndarray, upper: np.ndarray, n_star: np.ndarray | None = None
) -> np.ndarray:
    """gbstats' ``QuantileStatistic.variance_init``: ``(n*/n)(n − 1)((U − L)/(2z))²``, 0 for n ≤ 1."""
    n_star = n if n_star is None else n_star
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = (n_star / n) * (n - 1) * ((upper - lower) / (2 * RANK_Z)) ** 2
    return np.where(n <= 1, 0.0, variance)


def cluster_share_variance(
    sum_a: np.ndarray,
    sum_a2: np.ndarray,
    sum_b: np.ndarray,
    sum_b2: np.ndarray,
    sum_ab: np.ndarray,
    units: np.ndarray,
) -> np.ndarray:
    """The delta-method variance of the share ``Σa / Σb`` over ``units`` clusters."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_a, mean_b = sum_a / units, sum_b / units
        scale = units / (units - 1)
        var_a = (sum_a2 / units - mean_a**2) * scale
        var_b = (sum_b2 / units - mean_b**2) * scale
        cov = (sum_ab / units - mean_a * mean_b) * scale
        return (var_a - 2 * mean_a * cov / mean_b + mean_a**2 * var_b / mean_b**2) / (units * mean_b**2)


def quantile_statistics(
    level: np.ndarray, quantiles: np.ndarray, clusters: np.ndarray | None = None
) -> QuantileStatistics:
    """The statistics of quantile metrics, element-wise.

    :param level: ν per metric, shaped to broadcast against the columns (``(metrics, 1)``).
    :param quantiles: ``[..., 4]``: ``quantile_n, quantile_hat, quantile_lower, quantile_upper``.
    :param clusters: ``[..., 6]``: ``Σa, Σa², Σb, Σb², Σab, units`` of an event quantile, NaN for a
        unit quantile (whose variance is then the iid one).
    """
    n, estimate, lower, upper = (quantiles[..., i] for i in range(4))
    variance = iid_variance(n, lower, upper)
    if clusters is not None:
        sum_a, sum_a2, sum_b, sum_b2, sum_ab, units = (clusters[..., i] for i in range(6))
        clustered = ~np.isnan(units)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = (
                variance
                * cluster_share_variance(sum_a, sum_a2, sum_b, sum_b2, sum_ab, units)
                / (level * (1 - level) / n)
            )
        degenerate = (n <= 1) | (units <= 1) | (sum_b <= 0)
        variance = np.where(clustered, np.where(degenerate, 0.0, scaled), variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        squared = RANK_Z**2
        untestable = (n <= squared * level / (1 - level)) | (n <= squared * (1 - level) / level)
    untestable = untestable | ((variance <= 0) & (n < 1000)) | np.isnan(estimate)
    variance = np.where(n >= FLOOR_FROM, np.maximum(variance, VARIANCE_FLOOR), variance)
    return QuantileStatistics(n, estimate, variance, untestable)


def quantile_overrides(
    sums: MetricSums, experiment: Experiment
) -> tuple[np.ndarray, QuantileStatistics] | None:
    """Which metrics are quantiles (``(metrics,)`` mask) and their statistics (``(metrics,
    variants)``; the rows of other metrics are NaN), ``None`` for an experiment without them.

    :raises RowsError: the experiment has a quantile metric and the rows lack its columns (the
        cluster sums are needed only by event quantiles).
    """
    metrics = experiment.metrics
    is_quantile = np.array([m.is_quantile for m in metrics], dtype=bool)
    if not is_quantile.any():
        return None
    events = any(m.event_quantile for m in metrics)
    if sums.quantiles is None or (events and sums.clusters is None):
        named = ", ".join(f"{m.id} ({m.name})" for m in metrics if m.is_quantile)
        needed = (*METRIC_QUANTILE_VALUES, *(METRIC_CLUSTER_VALUES if events else ()))
        raise RowsError(
            f"metric {named} is a quantile metric, and the rows lack its columns "
            f"{', '.join(needed)} (compile the experiment's metric rows with expsql, which adds them)"
        )
    all_clusters = (
        sums.clusters
        if sums.clusters is not None
        else np.full((*sums.quantiles.shape[:2], len(METRIC_CLUSTER_VALUES)), np.nan)
    )
    index = np.array([sums.row_ids[metric_row_id(m.id)] for m in metrics], dtype=int)
    level = np.array([m.quantile if m.quantile is not None else np.nan for m in metrics])[:, np.newaxis]
    quantiles, clusters = sums.quantiles[index].copy(), all_clusters[index].copy()
    # A breakdown's overall result: the rows over every segment, when the rows carry them.
    for i, metric in enumerate(metrics):
        overall = sums.row_ids.get(overall_row_id(metric.id))
        if overall is not None:
            given = ~np.isnan(sums.quantiles[overall, :, 0])
            quantiles[i, given] = sums.quantiles[overall, given]
            clusters[i, given] = all_clusters[overall, given]
    plain = np.array([not m.event_quantile for m in metrics], dtype=bool)
    clusters[plain] = np.nan  # a unit quantile's variance is the iid one, whatever the rows say
    return is_quantile, quantile_statistics(level, quantiles, clusters)


def quantile_messages(
    experiment: Experiment, variants: list[str], untestable: np.ndarray, absent: np.ndarray
) -> list[str]:
    """Messages naming the quantile metric × variants whose rows carry no quantile (``absent``)
    or too few observations to test it (``untestable``)."""
    messages = []
    for mask, text in (
        (
            absent,
            "no quantile in the rows (a breakdown's overall, (other) or several segments together: "
            "a quantile of a union is not computed from its parts' rows; evaluate the experiment "
            "without breakdown for it)",
        ),
        (
            untestable & ~absent,
            "too few observations for a quantile's rank interval (it leaves [0, 1], or the order "
            "statistics at its bounds are equal)",
        ),
    ):
        rows, columns = np.nonzero(mask)
        if rows.size:
            named = ", ".join(
                f"metric {experiment.metrics[r].id} ({experiment.metrics[r].name}) variant {variants[c]}"
                for r, c in zip(rows, columns, strict=True)
            )
            messages.append(f"{text}: {named}; their statistics are NaN.")
    return messages
