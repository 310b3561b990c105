"""Seeded A/A simulations through ``evaluate``: false-positive rates with and without peeking.

Each simulated experiment is one metric of a single evaluation (each on its own goal), so a few
evaluations cover thousands of A/A tests. Units arrive every day; look d sees days 1…d. The
peeking test uses conversions (0/1 per unit) with enough units that the t-test itself is
calibrated: with a few dozen units of a skewed value per day, ep-stats' relative t-test alone
rejects A/A tests more often than α at the first looks, whatever the boundaries.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from benchmarks.calibration import ValueSums, goal_rows
from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.stats.sequential import Sequential
from tests.stats.frames import experiment, metric

ALPHA = 0.05
TESTS = 4000
DAYS = 10
UNITS_PER_DAY = 40  # per variant, single-look test


def _tolerance(trials: int) -> float:
    return 3 * np.sqrt(ALPHA * (1 - ALPHA) / trials)


def _daily_sums(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day, test and variant: Σx and Σx² of new units' revenue (a skewed, zero-inflated value)."""
    rng = np.random.default_rng(seed)
    bought = rng.random((DAYS, TESTS, 2, UNITS_PER_DAY)) < 0.3
    values = np.where(bought, rng.gamma(2.0, 20.0, size=bought.shape), 0.0)
    return values.sum(axis=3), (values**2).sum(axis=3)


def _goal_rows(sums: np.ndarray, squares: np.ndarray, units: int) -> pd.DataFrame:
    """Goal rows of ``TESTS`` experiments, experiment i on goal ``g<i>`` (the calibration's builder)."""
    counts = np.zeros_like(sums)
    totals = ValueSums(np.full(sums.shape, float(units)), counts, sums, squares)
    return goal_rows(totals, [f"g{i}" for i in range(TESTS)])


def _definition(**fields: object) -> Experiment:
    metrics = [metric(i, f"value(user.unit.g{i})") for i in range(TESTS)]
    return experiment(metrics, variants=["a", "b"], **fields)


def test_a_single_look_at_aa_experiments_rejects_at_rate_alpha() -> None:
    sums, squares = _daily_sums(seed=1)
    rows = _goal_rows(sums.sum(axis=0), squares.sum(axis=0), DAYS * UNITS_PER_DAY)
    significant = evaluate(_definition(), rows).metrics["significant"].to_numpy()
    rate = significant.sum() / TESTS
    assert abs(rate - ALPHA) <= _tolerance(TESTS)


def _peeking_rate(sequential: Sequential, sums: np.ndarray, units_per_day: int) -> float:
    """Share of A/A tests significant at some daily look of a ``DAYS``-day experiment."""
    planned = _definition(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, DAYS))
    ever = np.zeros(TESTS, dtype=bool)
    for day in range(1, DAYS + 1):
        definition = planned.model_copy(update={"date_for": dt.date(2026, 3, day)})  # no re-parsing
        totals = sums[:day].sum(axis=0)
        rows = _goal_rows(totals, totals, day * units_per_day)  # 0/1 per unit: Σx² = Σx
        metrics = evaluate(definition, rows, sequential=sequential).metrics
        ever |= metrics["significant"].to_numpy()[1::2]
    return float(ever.mean())


@pytest.mark.slow
def test_daily_peeking_under_obrien_fleming_keeps_the_false_positive_rate_at_alpha() -> None:
    units_per_day = 1000
    rng = np.random.default_rng(2)
    conversions = rng.binomial(units_per_day, 0.1, size=(DAYS, TESTS, 2)).astype(float)
    exact = _peeking_rate("obrien-fleming", conversions, units_per_day)
    ep_stats = _peeking_rate("ep-stats", conversions, units_per_day)
    naive = _peeking_rate("none", conversions, units_per_day)
    assert exact <= ALPHA + _tolerance(TESTS)
    # ep-stats' nominal rule lets more through (6–7 %), testing every day at 95 % far more (~20 %).
    assert ep_stats > ALPHA + _tolerance(TESTS)
    assert naive > ALPHA + 10 * _tolerance(TESTS)
