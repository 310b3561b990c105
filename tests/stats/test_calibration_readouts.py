"""A small seeded run of ``benchmarks/calibration_readouts.py``: always-valid peeking, the sequence's
coverage of the whole path and the Bayesian A/A winner rates, within the binomial tolerance.

400 experiments per figure (three binomial standard errors: ±3.3 points around 5 %); the full
run is ``python benchmarks/calibration.py`` (2,000 experiments), reported in docs/statistics.md.
"""

from __future__ import annotations

import numpy as np

from benchmarks.calibration_readouts import (
    PATH_COVERAGE,
    PEEKING_LIMIT,
    WINNER_RATE,
    bayesian_winners,
    ever_significant,
    looks,
    path_covered,
)

EXPERIMENTS = 400
UNITS = 2000
LIFT = 0.05


def _tolerance(rate: float) -> float:
    return 3 * np.sqrt(rate * (1 - rate) / EXPERIMENTS)


def test_always_valid_keeps_peeking_after_every_5_percent_at_alpha_where_fixed_horizon_does_not() -> None:
    path = looks(np.random.default_rng(201), EXPERIMENTS, UNITS)
    always_valid = ever_significant(path, "always-valid").mean()
    fixed_horizon = ever_significant(path, "none").mean()
    assert always_valid <= PEEKING_LIMIT + _tolerance(PEEKING_LIMIT)
    assert fixed_horizon > 2 * PEEKING_LIMIT  # the contrast: peeking breaks the fixed-horizon test


def test_the_confidence_sequence_covers_the_true_lift_on_the_whole_path() -> None:
    path = looks(np.random.default_rng(202), EXPERIMENTS, UNITS, LIFT)
    assert path_covered(path, LIFT).mean() >= PATH_COVERAGE - _tolerance(PATH_COVERAGE)


def test_a_flat_prior_bayesian_aa_declares_a_winner_in_5_percent_per_side() -> None:
    path = looks(np.random.default_rng(203), EXPERIMENTS, UNITS)
    winners = bayesian_winners(path[-1])
    for side in (winners.won, winners.lost):
        assert abs(side.mean() - WINNER_RATE) <= _tolerance(WINNER_RATE)
