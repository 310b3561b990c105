"""Data-quality checks: sample ratio mismatch (SRM) and SumRatio (semantics §3.6, §3.7).

- **SRM**: Pearson's chi-square of the per-variant totals of the check's denominator against the
  planned split — equal, or ``experiment.variant_weights``. Reports ``p_value, test_stat,
  confidence_level`` as ep-stats does, and ``passed = p_value ≥ 1 − confidence_level`` (None when
  there is nothing to test, e.g. no exposures).
- **SumRatio**: with N and D the nominator and denominator totals over all variants,
  ``sum_ratio = N / (N + D)`` and the chi-square of ``[D, |D − N|]`` against equal counts. Reports
  ``sum_ratio, max_sum_ratio, p_value, test_stat, confidence_level``; ``passed = sum_ratio ≤
  max_sum_ratio`` (None without data; ep-stats computes no verdict).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from expsql.errors import ExperimentError
from expsql.models import Check, Experiment


@dataclass(frozen=True)
class CheckResult:
    """One evaluated check: its variables in ep-stats' order and a verdict (None: undecidable)."""

    check: Check
    variables: tuple[tuple[str, float], ...]
    passed: bool | None


def chi_square(observed: np.ndarray, expected_shares: np.ndarray) -> tuple[float, float]:
    """Pearson's goodness-of-fit ``(statistic, p_value)``; NaN when there is nothing to test."""
    observed = np.asarray(observed, dtype=float)
    total = observed.sum()
    if observed.size < 2 or not np.isfinite(total) or total <= 0:
        return float("nan"), float("nan")
    expected = total * expected_shares / expected_shares.sum()
    statistic, p_value = stats.chisquare(observed, expected)
    return float(statistic), float(p_value)


def planned_shares(experiment: Experiment, variants: Sequence[str]) -> np.ndarray:
    """The planned share of each variant: ``variant_weights`` or equal."""
    if experiment.variant_weights is None:
        return np.ones(len(variants))
    missing = [v for v in variants if v not in experiment.variant_weights]
    if missing:
        raise ExperimentError(f"variant_weights has no weight for variants {missing}")
    return np.array([experiment.variant_weights[v] for v in variants], dtype=float)


def srm(check: Check, exposures: np.ndarray, shares: np.ndarray) -> CheckResult:
    """Sample ratio mismatch of the per-variant totals ``exposures``."""
    statistic, p_value = chi_square(exposures, shares)
    variables = (("p_value", p_value), ("test_stat", statistic), ("confidence_level", check.confidence_level))
    passed = None if np.isnan(p_value) else bool(p_value >= 1 - check.confidence_level)
    return CheckResult(check, variables, passed)


def sum_ratio(check: Check, nominator: np.ndarray, denominator: np.ndarray) -> CheckResult:
    """SumRatio of the nominator and denominator totals over all variants."""
    n_total, d_total = float(np.sum(nominator)), float(np.sum(denominator))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(n_total) / (n_total + d_total))
    statistic, p_value = chi_square(np.array([d_total, abs(d_total - n_total)]), np.ones(2))
    variables = (
        ("sum_ratio", ratio),
        ("max_sum_ratio", check.max_sum_ratio),
        ("p_value", p_value),
        ("test_stat", statistic),
        ("confidence_level", check.confidence_level),
    )
    return CheckResult(check, variables, None if np.isnan(ratio) else bool(ratio <= check.max_sum_ratio))


def evaluate_check(
    check: Check, nominator: np.ndarray | None, denominator: np.ndarray, shares: np.ndarray
) -> CheckResult:
    """Dispatch on the check's type."""
    if check.type == "SumRatio":
        return sum_ratio(check, np.zeros_like(denominator) if nominator is None else nominator, denominator)
    return srm(check, denominator, shares)
