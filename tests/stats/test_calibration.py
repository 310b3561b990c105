"""A small seeded run of ``benchmarks/calibration.py``: its figures within the binomial tolerance.

400 experiments per figure: a rate of 5 % is then known to ±3.3 points (three binomial standard
errors), so the bounds are that wide; the script's full run (2,000 experiments) is reported in
docs/statistics.md. Packed evaluation (one metric per experiment) is checked against one evaluation each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.calibration import (
    ALPHA,
    PEEKING_LIMIT,
    covered,
    mean_results,
    peeking_rates,
    ratio_results,
    ratio_sums,
    value_sums,
)

EXPERIMENTS = 400
UNITS = 2000
COVERAGE = 0.95


def _tolerance(rate: float, trials: int = EXPERIMENTS) -> float:
    return 3 * np.sqrt(rate * (1 - rate) / trials)


def test_packed_evaluation_equals_one_evaluation_per_experiment() -> None:
    rng = np.random.default_rng(5)
    columns = ["p_value", "ci_lower", "ci_upper", "significant"]
    means = value_sums(rng, 6, 300, lift=0.05)
    pd.testing.assert_frame_equal(
        mean_results(means, packed=True)[columns], mean_results(means, packed=False)[columns]
    )
    ratios = ratio_sums(rng, 6, 300)
    pd.testing.assert_frame_equal(
        ratio_results(ratios, packed=True)[columns], ratio_results(ratios, packed=False)[columns]
    )


def test_aa_false_positive_rates_of_mean_and_ratio_metrics_are_alpha() -> None:
    rng = np.random.default_rng(101)
    for results in (
        mean_results(value_sums(rng, EXPERIMENTS, UNITS), packed=True),
        ratio_results(ratio_sums(rng, EXPERIMENTS, UNITS), packed=True),
    ):
        assert abs(results["significant"].mean() - ALPHA) <= _tolerance(ALPHA)


def test_daily_peeking_with_the_default_sequential_mode_stays_at_alpha() -> None:
    ever = peeking_rates(np.random.default_rng(102), EXPERIMENTS, 300, ("obrien-fleming",))
    assert ever["obrien-fleming"].mean() <= PEEKING_LIMIT + _tolerance(PEEKING_LIMIT)


def test_confidence_intervals_cover_a_true_lift_at_their_level() -> None:
    results = mean_results(value_sums(np.random.default_rng(103), EXPERIMENTS, UNITS, lift=0.05), packed=True)
    assert abs(covered(results, 0.05).mean() - COVERAGE) <= _tolerance(COVERAGE)
