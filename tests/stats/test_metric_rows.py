"""Exact ratio metrics from metric rows: the delta method against the published ratio oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from expsql.stats.metric_rows import ratio_statistics, sum_metric_rows
from expsql.stats.ttest import welch_absolute
from tests.stats.frames import experiment, metric, metric_row

# Orders (x) per session (y) per user, control then treatment (issue 3, oracle 2).
N = np.array([2023.0, 1977.0])
SESSIONS = np.array([4038.0, 3920.0])
SESSIONS_SQUARED = np.array([10098.0, 9698.0])
ORDERS = np.array([1073.0, 1133.0])
ORDERS_SQUARED = np.array([2073.0, 2121.0])
ORDERS_TIMES_SESSIONS = np.array([2648.0, 2730.0])


def test_delta_method_reproduces_the_published_ratio_oracle() -> None:
    ratios = ratio_statistics(N, ORDERS, ORDERS_SQUARED, SESSIONS, SESSIONS_SQUARED, ORDERS_TIMES_SESSIONS)
    assert ratios.ratio[0] == pytest.approx(0.2657256067360079, rel=1e-14)
    assert ratios.ratio[1] == pytest.approx(0.28903061224489796, rel=1e-14)
    z = (ratios.ratio[1] - ratios.ratio[0]) / np.sqrt(ratios.variance.sum())
    assert z == pytest.approx(1.773406266834034, rel=1e-12)
    welch = welch_absolute(
        ratios.ratio[0], ratios.variance[0], N[0], ratios.ratio[1], ratios.variance[1], N[1]
    )
    assert welch.test_stat == pytest.approx(1.773406266834034, rel=1e-12)
    assert welch.p_value == pytest.approx(0.07623759978168303, rel=1e-9)


def test_delta_method_reduces_to_the_variance_of_a_mean_when_the_denominator_is_one() -> None:
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 3.0, size=500)
    ratios = ratio_statistics(
        np.float64(x.size), x.sum(), (x**2).sum(), np.float64(x.size), np.float64(x.size), x.sum()
    )
    assert ratios.ratio == pytest.approx(x.mean())
    assert ratios.variance == pytest.approx(x.var(ddof=1) / x.size, rel=1e-10)


def test_delta_method_matches_a_bootstrap_of_the_ratio() -> None:
    rng = np.random.default_rng(11)
    y = rng.poisson(3.0, size=4000) + 1.0
    x = rng.binomial(y.astype(int), 0.3).astype(float)
    ratios = ratio_statistics(np.float64(x.size), x.sum(), (x**2).sum(), y.sum(), (y**2).sum(), (x * y).sum())
    draws = rng.integers(0, x.size, size=(2000, x.size))
    bootstrap = x[draws].sum(axis=1) / y[draws].sum(axis=1)
    assert ratios.variance == pytest.approx(bootstrap.var(ddof=1), rel=0.1)
    # Ignoring the covariance (what goal rows do) would be far off.
    naive = stats.tvar(x / y.mean()) / x.size
    assert abs(naive - ratios.variance) / ratios.variance > 0.2


def test_sum_metric_rows_zero_fills_missing_rows_and_sums_duplicates() -> None:
    definition = experiment([metric(1, "value(user.unit.order)")], variants=["a", "b"])
    rows = pd.DataFrame(
        [
            metric_row("a", "1", 10, 5, 5, 10, 10, 5),
            metric_row("a", "1", 10, 5, 5, 10, 10, 5),
            metric_row("a", "@exposure", 20, 20, 20, 20, 20, 20),
            metric_row("a", "unrelated", 1, 1, 1, 1, 1, 1),
        ]
    )
    sums = sum_metric_rows(rows, definition, ["a", "b"])
    assert sums.column("1", "n").tolist() == [20, 0]
    assert sums.column("1", "sum_x").tolist() == [10, 0]
    assert sums.exposures.tolist() == [20, 0]
    assert sums.column("@check:9", "sum_y").tolist() == [0, 0]
