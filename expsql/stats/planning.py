"""Planning: required sample size, achieved power, minimum detectable effect, false-positive risk.

As ep-stats computes them (semantics §3.9): a two-sided z approximation with Bonferroni over the
``k − 1`` comparisons, ``α' = (1 − confidence_level) / (k − 1)``,

    N = round( (z_{1−α'/2} + z_{power})² · (s₁² + s₂²) / (mean · MEI)² )      (per variant)

with ``s₂ = s₁`` unless given, and for a Bernoulli metric (no ``std``) ``s₁² = p(1−p)``,
``s₂² = p₂(1−p₂)``, ``p₂ = p(1 + MEI)``. The minimum detectable effect — which ep-stats lacks — is
the MEI that solves the same equation for a given N (closed form, a quadratic for Bernoulli).

**CUPED** (:mod:`expsql.stats.cuped`): a metric adjusted by a covariate with correlation ρ has the
variance ``(1 − ρ²)`` times the unadjusted one (Deng et al., WSDM 2013), so every function takes
an optional ``variance_reduction`` r (the ``variance_reduction`` a past CUPED evaluation reported)
or ``rho`` (r = ρ²) and uses ``(1 − r) · (s₁² + s₂²)``, as tea-tasting and GrowthBook plan:
``N`` shrinks by the factor ``1 − r``, the MDE by ``√(1 − r)``.

**Always-valid** (``sequential="always-valid"``, :mod:`expsql.stats.always_valid`): the test is
the confidence sequence, whose half-width at ``N = 2n`` units (two arms of ``n``) is
``c(N) · se`` instead of ``z_{1−α'/2} · se``. The power of a reader who looks at the end is
``Φ(√(n / (s₁² + s₂²)) · |mean · MEI| − c(2n))``; the sample size is the smallest ``n`` whose power
reaches the target (found numerically: ``c`` grows only like ``√log N``), the MDE the effect whose
power is the target. A reader who stops at the first significant look needs no more units than
this, usually fewer. The group-sequential modes (``obrien-fleming``, ``ep-stats``) have no planning
here: their boundaries depend on the number of looks; plan them at the fixed horizon.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from expsql.stats import always_valid

DEFAULT_CONFIDENCE_LEVEL = 0.95
DEFAULT_POWER = 0.8


#: The planning modes: the fixed-horizon test (``None`` or ``"none"``) and the confidence sequence.
PLANNED_SEQUENTIAL = (None, "none", "always-valid")


def _always_valid(sequential: str | None) -> bool:
    """Whether to plan for the confidence sequence; :raises ValueError: a mode without planning."""
    if sequential not in PLANNED_SEQUENTIAL:
        raise ValueError(
            f"sequential {sequential!r} has no sample size or power here (its boundaries depend on the "
            "number of looks): plan at the fixed horizon (sequential none) or for always-valid."
        )
    return sequential == "always-valid"


def _sequence_power(
    units: float, shift_per_unit: float, n_variants: int, confidence_level: float, tuning: float
) -> float:
    """``Φ(√n · shift − c(2n))``: the power of the confidence sequence read after ``n`` units per arm."""
    alpha = (1 - confidence_level) / (n_variants - 1)
    width = float(always_valid.half_width(np.array(1.0), np.array(2.0 * units), alpha, tuning))
    return float(stats.norm.cdf(np.sqrt(units) * shift_per_unit - width))


def _sequence_units(
    shift_per_unit: float, n_variants: int, confidence_level: float, power: float, tuning: float
) -> float:
    """The smallest whole ``n`` per arm whose always-valid power reaches ``power``."""
    if not (np.isfinite(shift_per_unit) and shift_per_unit > 0):
        return np.inf if shift_per_unit == 0 else np.nan

    def excess(units: float) -> float:
        return _sequence_power(units, shift_per_unit, n_variants, confidence_level, tuning) - power

    high = 2.0
    while excess(high) < 0:
        high *= 2
        if high > 1e18:
            return np.inf
    return float(np.ceil(optimize.brentq(excess, high / 2 if high > 2 else 1e-9, high, xtol=1e-6)))


def _z_sum(n_variants: int, confidence_level: float, power: float) -> float:
    if n_variants < 2:
        raise ValueError("There must be at least two variants.")
    alpha = (1 - confidence_level) / (n_variants - 1)
    return float(stats.norm.isf(alpha / 2) + stats.norm.ppf(power))


def variance_factor(variance_reduction: float | None = None, rho: float | None = None) -> float:
    """``1 − r``: what CUPED leaves of the variance, from ``variance_reduction`` r or ``rho`` (r = ρ²)."""
    if variance_reduction is not None and rho is not None:
        raise ValueError("give variance_reduction or rho, not both.")
    if rho is not None:
        if not -1 < rho < 1:
            raise ValueError(f"rho must be between -1 and 1 (exclusive), received {rho}.")
        return 1 - rho * rho
    if variance_reduction is None:
        return 1.0
    if not 0 <= variance_reduction < 1:
        raise ValueError(f"variance_reduction must be at least 0 and below 1, received {variance_reduction}.")
    return 1 - variance_reduction


def _variances(mean: float, minimum_effect: float, std: float | None, std_2: float | None) -> np.float64:
    """``s₁² + s₂²`` (``2 s₁²`` without ``std_2``; Bernoulli without ``std``), inf rather than overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        if std is None:
            if not 0 <= mean <= 1:
                raise ValueError(f"mean must be between zero and one, received {mean}.")
            # ep-stats checks only the control rate; p₂ > 1 gives NaN, not an error.
            rate, rate_2 = np.float64(mean), np.float64(mean) * (1 + minimum_effect)
            std, std_2 = np.sqrt(rate * (1 - rate)), np.sqrt(rate_2 * (1 - rate_2))
        first = np.float64(std) ** 2
        return 2 * first if std_2 is None else first + np.float64(std_2) ** 2


def sample_size(
    n_variants: int,
    minimum_effect: float,
    mean: float,
    std: float | None = None,
    std_2: float | None = None,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
    power: float = DEFAULT_POWER,
    *,
    variance_reduction: float | None = None,
    rho: float | None = None,
    sequential: str | None = None,
    sequential_tuning: float = always_valid.DEFAULT_TUNING,
) -> float:
    """Units per variant to detect a relative effect ``minimum_effect`` on ``mean``.

    Without ``std`` the metric is a Bernoulli rate. Rounded half-to-even, as ep-stats does; inf when
    ``mean · minimum_effect`` is 0, NaN for NaN inputs. With CUPED's ``variance_reduction`` (or
    ``rho``) the variances are scaled by ``1 − variance_reduction`` (``1 − rho²``). With
    ``sequential="always-valid"``, the smallest whole number of units whose confidence sequence
    (tuned by ``sequential_tuning``) reaches ``power`` when read at the end.

    :raises ValueError: a ``sequential`` mode other than ``None``, ``"none"`` or ``"always-valid"``.
    """
    if minimum_effect < 0:
        raise ValueError("minimum_effect must be greater than zero.")
    factor = variance_factor(variance_reduction, rho)
    z = _z_sum(n_variants, confidence_level, power)
    variances = factor * _variances(mean, minimum_effect, std, std_2)
    if _always_valid(sequential):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            shift = float(abs(np.float64(mean) * minimum_effect) / np.sqrt(variances))
        return _sequence_units(shift, n_variants, confidence_level, power, sequential_tuning)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return float(np.round(z**2 * variances / (np.float64(mean) * minimum_effect) ** 2))


def minimum_detectable_effect(
    n_variants: int,
    sample_size: float,
    mean: float,
    std: float | None = None,
    std_2: float | None = None,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
    power: float = DEFAULT_POWER,
    *,
    variance_reduction: float | None = None,
    rho: float | None = None,
    sequential: str | None = None,
    sequential_tuning: float = always_valid.DEFAULT_TUNING,
) -> float:
    """The smallest relative effect detectable with ``sample_size`` units per variant.

    With ``sequential="always-valid"``, the effect whose confidence-sequence power (read after
    ``sample_size`` units) is ``power``.

    The inverse of :func:`sample_size` before its rounding: ``sample_size(mde(N)) == N``. For a
    Bernoulli rate ``p`` the effect ``e`` solves ``N p² e² = z² (p(1−p) + p₂(1−p₂))``, ``p₂ = p(1+e)``.
    CUPED's ``variance_reduction`` r (or ``rho``, r = ρ²) scales ``z²`` by ``1 − r``.
    """
    if sample_size <= 0:
        raise ValueError("sample_size must be positive.")
    if _always_valid(sequential):
        factor = variance_factor(variance_reduction, rho)

        def short(effect: float) -> float:
            variances = factor * _variances(mean, effect, std, std_2)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                per_unit = float(abs(np.float64(mean) * effect) / np.sqrt(variances))
            achieved = _sequence_power(sample_size, per_unit, n_variants, confidence_level, sequential_tuning)
            return achieved - power

        if std is None:
            _variances(mean, 0.0, None, None)  # validates the rate
        high = 1e-6
        while short(high) < 0:
            high *= 2
            if high > 1e12:
                return np.inf
        return float(optimize.brentq(short, high / 2, high, xtol=1e-12, rtol=1e-12))
    z2 = variance_factor(variance_reduction, rho) * _z_sum(n_variants, confidence_level, power) ** 2
    if std is not None:
        variances = _variances(mean, 0.0, std, std_2)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return float(np.sqrt(z2 * variances / sample_size) / abs(np.float64(mean)))
    _variances(mean, 0.0, None, None)  # validates the rate
    p = np.float64(mean)
    # (N + z²) p² e² − z² p (1 − 2p) e − 2 z² p (1 − p) = 0, the positive root.
    a = (sample_size + z2) * p**2
    b = -z2 * p * (1 - 2 * p)
    c = -2 * z2 * p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((-b + np.sqrt(b * b - 4 * a * c)) / (2 * a))


def power(
    n_variants: int,
    sample_size: float,
    minimum_effect: float,
    mean: float,
    std: float | None = None,
    std_2: float | None = None,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
    *,
    variance_reduction: float | None = None,
    rho: float | None = None,
    sequential: str | None = None,
    sequential_tuning: float = always_valid.DEFAULT_TUNING,
) -> float:
    """The power of a test with ``sample_size`` units per variant against ``minimum_effect``
    (variances scaled by ``1 − variance_reduction`` or ``1 − rho²`` with CUPED); with
    ``sequential="always-valid"``, of the confidence sequence read after ``sample_size`` units."""
    if n_variants < 2:
        raise ValueError("There must be at least two variants.")
    alpha = (1 - confidence_level) / (n_variants - 1)
    variances = variance_factor(variance_reduction, rho) * _variances(mean, minimum_effect, std, std_2)
    if _always_valid(sequential):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            per_unit = float(abs(np.float64(mean) * minimum_effect) / np.sqrt(variances))
        return _sequence_power(sample_size, per_unit, n_variants, confidence_level, sequential_tuning)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shift = np.sqrt(sample_size / variances) * abs(np.float64(mean) * minimum_effect)
    return float(stats.norm.cdf(shift - stats.norm.isf(alpha / 2)))


def required_sample_sizes(
    n_variants: int,
    minimum_effect: np.ndarray,
    mean_c: np.ndarray,
    std_c: np.ndarray,
    std_t: np.ndarray,
    confidence_level: float,
) -> np.ndarray:
    """ep-stats' per-row required sample size at 80 % power, vectorised (NaN where no MEI)."""
    if n_variants < 2:
        return np.full(np.broadcast(minimum_effect, std_t).shape, np.nan)
    z = _z_sum(n_variants, confidence_level, DEFAULT_POWER)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.round(z**2 * (std_c**2 + std_t**2) / (mean_c * minimum_effect) ** 2)


def achieved_power(
    n_variants: int, sample_size: np.ndarray, required: np.ndarray, confidence_level: float
) -> np.ndarray:
    """ep-stats' power from the ratio of the sample size to the required one, vectorised."""
    if n_variants < 2:
        return np.full(np.shape(required), np.nan)
    alpha = (1 - confidence_level) / (n_variants - 1)
    z_alpha = stats.norm.isf(alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.sqrt(sample_size / required) * (z_alpha + stats.norm.ppf(DEFAULT_POWER)) - z_alpha
    return np.where(required == 0, np.nan, stats.norm.cdf(shift))


def false_positive_risk(
    p_value: np.ndarray, power: np.ndarray, null_hypothesis_rate: float | None, confidence_level: float
) -> np.ndarray:
    """``p·π / (p·π + power·(1 − π))`` for significant rows, NaN elsewhere or without π."""
    if null_hypothesis_rate is None:
        return np.full(np.shape(p_value), np.nan)
    pi = null_hypothesis_rate
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = p_value * pi / (p_value * pi + power * (1 - pi))
    return np.where(p_value < 1 - confidence_level, risk, np.nan)
