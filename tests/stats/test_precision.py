"""Large sums lose no precision that matters: ``evaluate`` against an exact computation.

10⁸ units with revenue in the millions per unit give sums of ~1e14 and sums of squares of ~1e20
and beyond. The per-unit data is integer, so its sums are exact Python integers; a sample of
units is repeated ``REPEAT`` times (the sums scale exactly) to reach 10⁸ units cheaply. The
oracle computes means, variances, the delta method and the test statistic in 80-digit decimals
from those exact sums; only the final Student-t tail is a float. ``evaluate`` gets the sums as
float64, as a warehouse's DOUBLE delivers them.

In float64, ``Σx² − Σx·x̄`` loses a relative ``ε·(x̄/s)²`` of the variance (ε = 1.1e-16), the
rounding of its inputs' own representation: about 1e-16 for a coefficient of variation of 1,
1e-10 for 1e-3. A p-value keeps its 4th significant digit down to a CV of about 1e-6, so no
wider type is needed in the statistics (measured here at CV 1.3 and 1e-3).
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from expsql.stats import evaluate
from tests.stats.frames import experiment as definition
from tests.stats.frames import exposure_row, goal_row, metric, metric_row

SAMPLE = 20_000
REPEAT = 5_000  # 10⁸ units per variant
#: The tolerance asked for is the 4th significant digit (1e-4); the measured error is far smaller.
TOLERANCE = 1e-7
#: (log-mean, log-sd) of the per-unit revenue: CV 1.3 around 1e6, and CV 1e-3 around 1e9.
REVENUES = pytest.mark.parametrize("scale, sigma", [(1e6, 1.0), (1e9, 1e-3)], ids=["cv-1.3", "cv-0.001"])
EXPERIMENT = definition(
    [metric(1, "value(user.unit.revenue)"), metric(2, "value(user.unit.revenue)", "count(user.unit.order)")],
    variants=["a", "b"],
)


def _units(scale: float, sigma: float, seed: int) -> dict[str, tuple[list[int], list[int]]]:
    """Per variant integer (revenue, orders) per unit; the treatment shifted by ~1.6 standard errors."""
    rng = np.random.default_rng(seed)
    revenue = np.round(rng.lognormal(np.log(scale), sigma, SAMPLE)).astype(np.int64)
    orders = rng.poisson(3, SAMPLE) + 1
    standard_error = revenue.std() * np.sqrt(2 / (SAMPLE * REPEAT))
    shifted = revenue + round(1.6 * standard_error)
    order = rng.permutation(SAMPLE)
    return {"a": (revenue.tolist(), orders.tolist()), "b": (shifted[order].tolist(), orders[order].tolist())}


def _sums(x: list[int], y: list[int]) -> dict[str, int]:
    """Exact sums over the 10⁸ units (the sample's sums times ``REPEAT``)."""
    sums = {
        "n": len(x),
        "sum_x": sum(x),
        "sum_x2": sum(v * v for v in x),
        "sum_y": sum(y),
        "sum_y2": sum(v * v for v in y),
        "sum_xy": sum(a * b for a, b in zip(x, y, strict=True)),
    }
    return {name: total * REPEAT for name, total in sums.items()}


def _exact_p_value(means: dict[str, Decimal], variances: dict[str, Decimal], n: dict[str, int]) -> float:
    """ep-stats' relative Welch test, in decimals, from exact means and per-unit variances."""
    with localcontext() as context:
        context.prec = 80
        m_c, m_t = means["a"], means["b"]
        v_c, v_t = variances["a"] / n["a"], variances["b"] / n["b"]
        diff = (m_t - m_c) / m_c
        error = (m_t * m_t * v_c / (m_c * m_c) + v_t).sqrt() / m_c
        freedom = (v_c + v_t) ** 2 / (v_c**2 / (n["a"] - 1) + v_t**2 / (n["b"] - 1))
        return float(2 * stats.t.sf(abs(float(diff / error)), int(freedom)))


def _exact_mean_test(sums: dict[str, dict[str, int]]) -> float:
    with localcontext() as context:
        context.prec = 80
        n = {v: s["n"] for v, s in sums.items()}
        means = {v: Decimal(s["sum_x"]) / s["n"] for v, s in sums.items()}
        variances = {
            v: (Decimal(s["sum_x2"]) - s["sum_x"] * means[v]) / (s["n"] - 1) for v, s in sums.items()
        }
        return _exact_p_value(means, variances, n)


def _exact_ratio_test(sums: dict[str, dict[str, int]]) -> float:
    """The delta method in decimals; ``std²`` of the ratio is ``n · Var(R)``."""
    with localcontext() as context:
        context.prec = 80
        n = {v: s["n"] for v, s in sums.items()}
        means, variances = {}, {}
        for v, s in sums.items():
            count = Decimal(s["n"])
            mean_x, mean_y = s["sum_x"] / count, s["sum_y"] / count
            var_x = (s["sum_x2"] - s["sum_x"] * mean_x) / (count - 1)
            var_y = (s["sum_y2"] - s["sum_y"] * mean_y) / (count - 1)
            cov = (s["sum_xy"] - s["sum_x"] * mean_y) / (count - 1)
            means[v] = Decimal(s["sum_x"]) / s["sum_y"]
            variances[v] = var_x / mean_y**2 - 2 * mean_x * cov / mean_y**3 + mean_x**2 * var_y / mean_y**4
        return _exact_p_value(means, variances, n)


def _goal_rows(sums: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = []
    for v, s in sums.items():
        rows.append(exposure_row(v, float(s["n"])))
        rows.append(goal_row(v, "revenue", count=float(s["n"]), sum_value=float(s["sum_x"]),
                             sum_sqr_value=float(s["sum_x2"])))  # fmt: skip
        rows.append(goal_row(v, "order", count=float(s["sum_y"]), sum_sqr_count=float(s["sum_y2"])))
    return pd.DataFrame(rows)


def _metric_rows(sums: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = []
    for v, s in sums.items():
        n = float(s["n"])
        rows.append(metric_row(v, "@exposure", n, n, n, n, n, n))
        rows.append(metric_row(v, "1", n, float(s["sum_x"]), float(s["sum_x2"]), n, n, float(s["sum_x"])))
        rows.append(
            metric_row(v, "2", *(float(s[c]) for c in ("n", "sum_x", "sum_x2", "sum_y", "sum_y2", "sum_xy")))
        )
    return pd.DataFrame(rows)


def _p_values(rows: pd.DataFrame) -> np.ndarray:
    metrics = evaluate(EXPERIMENT, rows).metrics
    return metrics.loc[metrics["exp_variant_id"] == "b", "p_value"].to_numpy(float)


@REVENUES
def test_mean_metrics_of_huge_sums_keep_their_p_values_from_both_contracts(
    scale: float, sigma: float
) -> None:
    sums = {v: _sums(*units) for v, units in _units(scale, sigma, seed=11).items()}
    assert sums["a"]["sum_x"] > 1e14 and sums["a"]["sum_x2"] > 1e20
    exact = _exact_mean_test(sums)
    assert 0.01 < exact < 0.9  # a p-value worth four digits
    goal_p, metric_p = _p_values(_goal_rows(sums))[0], _p_values(_metric_rows(sums))[0]
    assert abs(goal_p - exact) <= TOLERANCE * exact
    assert abs(metric_p - exact) <= TOLERANCE * exact


@REVENUES
def test_ratio_metrics_of_huge_sums_keep_their_delta_method_p_values(scale: float, sigma: float) -> None:
    # Revenue per order x/y is the lognormal: at CV 1e-3 the delta method's terms nearly cancel.
    units = _units(scale, sigma, seed=12)
    sums = {v: _sums([r * o for r, o in zip(x, y, strict=True)], y) for v, (x, y) in units.items()}
    exact = _exact_ratio_test(sums)
    assert 0.01 < exact < 0.9
    assert abs(_p_values(_metric_rows(sums))[1] - exact) <= TOLERANCE * exact
