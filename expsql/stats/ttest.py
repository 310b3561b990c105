"""Welch's t-test on the relative difference, as ep-stats computes it (semantics §3.2), vectorised.

Every array is ``(metrics, variants)``; each variant is compared with the control column, the
control with itself (diff 0, p 1). For a variant T against the control C:

- ``diff = (m_T − m_C) / |m_C|`` and ``absolute_diff = m_T − m_C``;
- ``se = sqrt(m_T² s_C² / (m_C² n_C) + s_T² / n_T) / |m_C|`` — the delta method for a ratio of two
  independent means (ep-stats divides by the *signed* m_C; see :mod:`expsql.stats` for why not);
- ``test_stat = diff / se``, except that an infinite statistic becomes 0 when the treatment's total is
  at most 10 (ep-stats' sparse-metric rule);
- Welch–Satterthwaite degrees of freedom of the absolute difference, rounded to 5 decimals and
  truncated (ep-stats' way of hiding round-off such as 9.999999998);
- a two-sided Student-t p-value; ``confidence_interval`` is the half-width ``se · t(1 − α/2, df)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: ep-stats' sparse-metric rule: an infinite statistic on a treatment total ≤ this becomes 0.
SPARSE_TOTAL = 10


@dataclass(frozen=True)
class RelativeTest:
    """The relative-difference test for every metric × variant."""

    diff: np.ndarray
    absolute_diff: np.ndarray
    test_stat: np.ndarray
    p_value: np.ndarray
    confidence_interval: np.ndarray
    standard_error: np.ndarray
    degrees_of_freedom: np.ndarray


def relative_ttest(
    mean: np.ndarray,
    std: np.ndarray,
    count: np.ndarray,
    sum_value: np.ndarray,
    control: int,
    confidence_level: float,
    *,
    control_mean: np.ndarray | None = None,
    control_std: np.ndarray | None = None,
) -> RelativeTest:
    """Test every variant's relative difference from the control column ``control``.

    ``control_mean`` and ``control_std``, shaped as ``mean``, replace the control column's mean and
    std per comparison (CUPED adjusts the control differently in each comparison).
    """
    mean_c = mean[:, [control]] if control_mean is None else control_mean
    std_c = std[:, [control]] if control_std is None else control_std
    count_c = count[:, [control]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        variance_c = std_c**2 / count_c
        variance_t = std**2 / count
        numerator = (variance_c + variance_t) ** 2
        denominator = variance_c**2 / (count_c - 1) + variance_t**2 / (count - 1)
        degrees_of_freedom = np.trunc(np.round(numerator / denominator, 5))
        absolute_diff = mean - mean_c
        diff = absolute_diff / np.abs(mean_c)
        standard_error = np.sqrt(mean**2 * std_c**2 / (mean_c**2 * count_c) + variance_t) / np.abs(mean_c)
        test_stat = diff / standard_error
    test_stat = np.where(np.isinf(test_stat) & (sum_value <= SPARSE_TOTAL), 0.0, test_stat)
    p_value = two_sided_p_value(test_stat, degrees_of_freedom)
    quantile = t_quantile(1 - (1 - confidence_level) / 2, degrees_of_freedom)
    with np.errstate(invalid="ignore"):
        confidence_interval = standard_error * quantile
    return RelativeTest(
        diff, absolute_diff, test_stat, p_value, confidence_interval, standard_error, degrees_of_freedom
    )


def two_sided_p_value(test_stat: np.ndarray, degrees_of_freedom: np.ndarray) -> np.ndarray:
    """``2 · P(T_df > |t|)``, NaN where either input is NaN."""
    with np.errstate(invalid="ignore"):
        return np.asarray(2 * stats.t.sf(np.abs(test_stat), degrees_of_freedom), dtype=float)


def t_quantile(probability: np.ndarray | float, degrees_of_freedom: np.ndarray) -> np.ndarray:
    """Student-t quantile, NaN (not an exception) for undefined degrees of freedom."""
    with np.errstate(invalid="ignore"):
        return np.asarray(stats.t.ppf(probability, degrees_of_freedom), dtype=float)


@dataclass(frozen=True)
class WelchTest:
    """Welch's t-test on the absolute difference of two independent means."""

    test_stat: np.ndarray
    p_value: np.ndarray
    degrees_of_freedom: np.ndarray


def welch_absolute(
    mean_c: np.ndarray,
    variance_of_mean_c: np.ndarray,
    n_c: np.ndarray,
    mean_t: np.ndarray,
    variance_of_mean_t: np.ndarray,
    n_t: np.ndarray,
) -> WelchTest:
    """``(m_T − m_C) / sqrt(V_T + V_C)`` with unrounded Welch–Satterthwaite degrees of freedom.

    ``variance_of_mean`` is ``s² / n`` for a mean, or a delta-method ``Var(R)`` for a ratio.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        total = variance_of_mean_c + variance_of_mean_t
        test_stat = (mean_t - mean_c) / np.sqrt(total)
        degrees_of_freedom = total**2 / (
            variance_of_mean_c**2 / (n_c - 1) + variance_of_mean_t**2 / (n_t - 1)
        )
    return WelchTest(test_stat, two_sided_p_value(test_stat, degrees_of_freedom), degrees_of_freedom)


def degenerate_reasons(
    count: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    control: int,
    invalid: np.ndarray | None = None,
    *,
    control_mean: np.ndarray | None = None,
    control_variance: np.ndarray | None = None,
) -> np.ndarray:
    """Why a metric × variant cannot be tested (``''`` where it can), as an array of text.

    A row is degenerate when either arm has one unit or none, a variance is negative (sums that do
    not belong together), the control mean is 0, both arms have zero variance, or ``invalid``
    marks its rows or the control's as holding bad cells (negative counts, infinities).
    ``control_mean`` and ``control_variance`` replace the control column's per comparison.
    """
    invalid = np.zeros(count.shape, dtype=bool) if invalid is None else invalid
    reasons = np.full(count.shape, "", dtype=object)
    count_c = count[:, [control]]
    mean_c = mean[:, [control]] if control_mean is None else control_mean
    variance_c = variance[:, [control]] if control_variance is None else control_variance
    checks = (
        ((variance_c == 0) & (variance == 0), "zero variance in both variant and control"),
        (mean_c == 0, "the control mean is 0"),
        (
            (variance < 0) | (variance_c < 0),
            "negative variance estimate: sum of squares inconsistent with sums",
        ),
        ((count <= 1) | (count_c <= 1), "one unit or none in the variant or the control"),
        (~np.isfinite(mean) | ~np.isfinite(mean_c), "the mean is not finite (no denominator)"),
        (invalid | invalid[:, [control]], "its rows or the control's hold invalid values (see above)"),
    )
    # Later checks overwrite earlier ones: the most basic reason is the one reported.
    for mask, reason in checks:
        reasons[np.broadcast_to(mask, count.shape)] = reason
    return reasons
