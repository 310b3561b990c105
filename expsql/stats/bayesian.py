"""``inference: bayesian``: the posterior of each treatment's relative effect, vectorised.

The data's estimate is the relative difference ``d`` with its delta-method variance ``v = se²`` —
the same ``se`` the frequentist test uses, CUPED-adjusted where CUPED applies. With a Gaussian
prior ``N(μ₀, τ²)`` on the relative effect (GrowthBook's ``EffectBayesianABTest``), the posterior
is normal with

    precision  1/v + 1/τ²          mean  (d/v + μ₀/τ²) / precision

and with the improper (flat) default, ``N(d, v)``: the data's normal approximation. From it, with
``X`` the effect and a metric where higher is better:

- ``chance_to_win = P(X > 0)`` (``P(X < 0)`` when lower is better);
- ``risk_control = E[max(X, 0)]``, the expected relative loss of keeping the control (what it
  forgoes when the treatment is better), ``risk_treatment = E[max(−X, 0)]``, the expected loss of
  shipping the treatment; both swap when lower is better. For ``X ~ N(m, s²)``:
  ``E[max(X, 0)] = m Φ(m/s) + s φ(m/s)``;
- the credible interval ``m ± z_{1−α/2} s``, ``α = 1 − confidence_level``.

A treatment *won* when its chance to win exceeds the decision threshold (default 0.95) and *lost*
when it falls below 1 − threshold. No multiple-comparison correction applies: each posterior is
read on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

DEFAULT_THRESHOLD = 0.95


@dataclass(frozen=True)
class Posterior:
    """The posterior of the relative effect for every metric × variant, and what it implies."""

    mean: np.ndarray
    std: np.ndarray
    chance_to_win: np.ndarray
    risk_control: np.ndarray
    risk_treatment: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray


def posterior(
    estimate: np.ndarray,
    variance: np.ndarray,
    confidence_level: float,
    *,
    higher_is_better: np.ndarray | bool = True,
    prior_mean: float = 0.0,
    prior_variance: float = 1.0,
    proper: bool = False,
) -> Posterior:
    """The normal posterior of the relative effect from its estimate and the estimate's variance.

    :param higher_is_better: per metric (broadcast against ``estimate``); where false, the chance to
        win is ``P(X < 0)`` and the two risks swap.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if proper:
            precision = 1 / variance + 1 / prior_variance
            mean = (estimate / variance + prior_mean / prior_variance) / precision
            std = np.sqrt(1 / precision)
        else:
            mean, std = np.asarray(estimate, dtype=float), np.sqrt(variance)
        ratio = mean / std
        density = stats.norm.pdf(ratio)
        upside = mean * stats.norm.cdf(ratio) + std * density  # E[max(X, 0)]
        downside = -mean * stats.norm.cdf(-ratio) + std * density  # E[max(−X, 0)]
    better = np.broadcast_to(np.asarray(higher_is_better, dtype=bool), np.shape(mean))
    chance = np.where(better, stats.norm.sf(0, mean, std), stats.norm.cdf(0, mean, std))
    z = stats.norm.isf((1 - confidence_level) / 2)
    return Posterior(
        mean=np.asarray(mean, dtype=float),
        std=np.asarray(std, dtype=float),
        chance_to_win=np.asarray(chance, dtype=float),
        risk_control=np.where(better, upside, downside),
        risk_treatment=np.where(better, downside, upside),
        ci_lower=np.asarray(mean - z * std, dtype=float),
        ci_upper=np.asarray(mean + z * std, dtype=float),
    )


def decided(chance_to_win: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Where a treatment won (chance to win above ``threshold``) or lost (below 1 − ``threshold``)."""
    with np.errstate(invalid="ignore"):
        return np.asarray((chance_to_win > threshold) | (chance_to_win < 1 - threshold), dtype=bool)
