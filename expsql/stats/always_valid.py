"""``sequential: always-valid``: an asymptotic confidence sequence, valid however often it is read.

Waudby-Smith, Arnold, Wu, Wang and Ramdas (2023), *Time-uniform central limit theory and
asymptotic confidence sequences* (arXiv 2103.06476, v7), eq. 9: for an estimate ``d`` of a mean
effect from ``N`` observations with per-observation variance ``σ²`` (here ``σ² = N · se²``, the
delta-method variance of the relative difference times ``N = n_C + n_T``, as GrowthBook reads it),

    d ± σ · sqrt( 2 (N ρ² + 1) / (N² ρ²) · log( sqrt(N ρ² + 1) / α ) )

covers the effect at every ``N`` at once with probability ≥ 1 − α (asymptotically). ρ tunes the
sample size at which the sequence is tightest (eq. 161): for a tuning size ``m``,

    ρ² = ( −2 log α + log(−2 log α + 1) ) / m.

The always-valid p-value is ``min(1, 1/E)`` for the e-value of the same Gaussian mixture (eq. 155),

    E = exp( ρ² N² d² / (2 σ² (N ρ² + 1)) ) / sqrt(N ρ² + 1),

so ``p < α`` exactly when the sequence excludes 0. Because both hold at any stopping time, a
reader may look after every row and stop at the first significant look: no α is spent, and the
level of each look is the nominal one.
"""

from __future__ import annotations

import numpy as np

#: GrowthBook's default tuning: the sequence is tightest around 5,000 units in all.
DEFAULT_TUNING = 5000.0


def tuning_rho_squared(alpha: np.ndarray | float, tuning: float) -> np.ndarray:
    """``ρ²`` of eq. 161 for the level ``α`` and the tuning sample size."""
    log_alpha = np.log(np.asarray(alpha, dtype=float))
    return np.asarray((-2 * log_alpha + np.log(-2 * log_alpha + 1)) / tuning, dtype=float)


def half_width(
    standard_error: np.ndarray,
    total: np.ndarray,
    alpha: np.ndarray | float,
    tuning: float = DEFAULT_TUNING,
) -> np.ndarray:
    """The half-width of the (1 − α) confidence sequence around the estimate (eq. 9).

    :param standard_error: the estimate's standard error (``σ / sqrt(N)``).
    :param total: ``N``, the units of both arms.
    """
    rho2 = tuning_rho_squared(alpha, tuning)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = total * rho2 + 1
        factor = 2 * spread / (total * rho2) * np.log(np.sqrt(spread) / alpha)
        return np.asarray(standard_error * np.sqrt(factor), dtype=float)


def p_value(
    statistic: np.ndarray,
    total: np.ndarray,
    alpha: float,
    tuning: float = DEFAULT_TUNING,
) -> np.ndarray:
    """The always-valid p-value ``min(1, 1/E)`` of the null "no effect" (eq. 155) from the
    statistic ``z = d / se``, NaN where it is NaN."""
    rho2 = tuning_rho_squared(alpha, tuning)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        spread = total * rho2 + 1
        # log(1/E), so that a huge e-value is a p-value of 0 rather than an overflow.
        log_inverse = np.log(spread) / 2 - rho2 * total * statistic**2 / (2 * spread)
        return np.asarray(np.minimum(np.exp(log_inverse), 1.0), dtype=float)
