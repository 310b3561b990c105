"""The relative Welch t-test against published figures, scipy, and ep-stats' edge-case rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from expsql.stats.ttest import degenerate_reasons, relative_ttest, welch_absolute

# Orders per user (issue 3, oracle 1): control then treatment.
N = np.array([2023.0, 1977.0])
SUM = np.array([1073.0, 1133.0])
SUM_SQUARES = np.array([2073.0, 2121.0])
MEAN = SUM / N
STD = np.sqrt((SUM_SQUARES - SUM**2 / N) / (N - 1))


def test_welch_absolute_matches_the_published_orders_per_user_figures() -> None:
    result = welch_absolute(MEAN[0], STD[0] ** 2 / N[0], N[0], MEAN[1], STD[1] ** 2 / N[1], N[1])
    assert result.test_stat == pytest.approx(1.5647028839586694, rel=1e-12)
    assert result.p_value == pytest.approx(0.1177317799871623, rel=1e-10)


def test_welch_absolute_agrees_with_scipy_ttest_ind_from_stats() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n1, n2 = rng.integers(5, 500, size=2)
        m1, m2 = rng.normal(size=2)
        s1, s2 = rng.uniform(0.1, 3, size=2)
        ours = welch_absolute(m1, s1**2 / n1, n1, m2, s2**2 / n2, n2)
        theirs = stats.ttest_ind_from_stats(m2, s2, n2, m1, s1, n1, equal_var=False)
        assert ours.test_stat == pytest.approx(theirs.statistic, rel=1e-12)
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_relative_test_reproduces_ep_stats_on_orders_per_user() -> None:
    test = relative_ttest(
        MEAN[None, :], STD[None, :], N[None, :], SUM[None, :], control=0, confidence_level=0.95
    )
    assert test.diff[0, 1] == pytest.approx(0.080487, abs=5e-7)
    assert test.test_stat[0, 1] == pytest.approx(1.503754, abs=5e-7)
    assert test.p_value[0, 1] == pytest.approx(0.132724, abs=5e-7)
    assert test.confidence_interval[0, 1] == pytest.approx(0.104937, abs=5e-7)
    # The control is compared with itself: no difference, p = 1, df = 2(n − 1).
    assert test.diff[0, 0] == 0 and test.p_value[0, 0] == 1
    assert test.degrees_of_freedom[0, 0] == 2 * (N[0] - 1)


def test_relative_test_reproduces_the_ep_stats_readme_example() -> None:
    n = np.array([[21.0, 26.0, 30.0]])
    clicks = np.array([[5.0, 7.0, 9.0]])
    mean = clicks / n
    std = np.sqrt((clicks - clicks**2 / n) / (n - 1))  # Bernoulli: Σx² = Σx
    test = relative_ttest(mean, std, n, clicks, control=0, confidence_level=0.95)
    assert mean[0, 0] == pytest.approx(0.238095, abs=5e-7)
    assert std[0, 0] == pytest.approx(0.436436, abs=5e-7)
    assert test.standard_error[0, 0] == pytest.approx(0.565685, abs=5e-7)
    assert test.degrees_of_freedom[0].tolist() == [40, 43, 44]
    assert test.confidence_interval[0, 0] == pytest.approx(1.143293, abs=5e-7)
    assert test.diff[0, 1] == pytest.approx(0.130769, abs=5e-7)
    assert test.standard_error[0, 1] == pytest.approx(0.586008, abs=5e-7)
    assert test.test_stat[0, 1] == pytest.approx(0.223152, abs=5e-7)
    assert test.p_value[0, 1] == pytest.approx(0.82447, abs=5e-6)
    assert test.diff[0, 2] == pytest.approx(0.26, abs=5e-7)
    assert test.test_stat[0, 2] == pytest.approx(0.420806, abs=5e-7)
    assert test.p_value[0, 2] == pytest.approx(0.67595, abs=5e-6)


def test_sparse_rule_turns_an_infinite_statistic_on_a_small_treatment_total_into_zero() -> None:
    mean = np.array([[0.5, 0.0]])
    std = np.array([[0.5, 0.0]])
    count = np.array([[100.0, 100.0]])
    test = relative_ttest(mean, std, count, mean * count, control=0, confidence_level=0.95)
    assert test.diff[0, 1] == -1.0 and test.standard_error[0, 1] == 0
    assert test.test_stat[0, 1] == 0 and test.p_value[0, 1] == 1.0 and test.confidence_interval[0, 1] == 0


def test_negative_control_mean_gives_a_positive_standard_error_and_a_statistic_signed_like_diff() -> None:
    mean = np.array([[-2.0, -1.0]])
    std = np.array([[3.0, 3.0]])
    count = np.array([[400.0, 400.0]])
    test = relative_ttest(mean, std, count, mean * count, control=0, confidence_level=0.95)
    assert test.diff[0, 1] == pytest.approx(0.5)
    assert test.standard_error[0, 1] > 0 and test.confidence_interval[0, 1] > 0
    assert test.test_stat[0, 1] > 0
    mirrored = relative_ttest(-mean, std, count, -mean * count, control=0, confidence_level=0.95)
    # ep-stats' p-value does not depend on the sign; neither does ours.
    assert test.p_value[0, 1] == pytest.approx(mirrored.p_value[0, 1], rel=1e-12)


def test_degenerate_reasons_name_each_kind_of_untestable_row() -> None:
    count = np.array([[10.0, 1.0], [10.0, 10.0], [10.0, 10.0], [10.0, 10.0], [10.0, 10.0]])
    mean = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 2.0], [1.0, 1.0], [1.0, 2.0]])
    variance = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, -0.5], [1.0, 2.0]])
    reasons = degenerate_reasons(count, mean, variance, control=0)
    assert "one unit or none" in reasons[0, 1] and reasons[0, 0] == ""
    assert "control mean is 0" in reasons[1, 0] and "control mean is 0" in reasons[1, 1]
    assert "zero variance" in reasons[2, 1]
    assert "negative variance" in reasons[3, 1]
    assert reasons[4].tolist() == ["", ""]
