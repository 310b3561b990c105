"""SRM and SumRatio checks against published figures and scipy's chi-square."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from expsql.models import Check
from expsql.stats.checks import chi_square, srm, sum_ratio

SRM_CHECK = Check(id=1, name="SRM", denominator="count(user.global.exposure)")


def test_srm_of_the_published_split_fails_with_its_chi_square() -> None:
    result = srm(SRM_CHECK, np.array([821_588.0, 815_482.0]), np.ones(2))
    values = dict(result.variables)
    assert values["test_stat"] == pytest.approx(22.7744, abs=5e-5)
    assert values["p_value"] == pytest.approx(1.82e-6, rel=5e-3)
    assert values["confidence_level"] == 0.999
    assert not result.passed


def test_srm_of_the_ep_stats_readme_example_passes() -> None:
    result = srm(SRM_CHECK, np.array([21.0, 26.0, 30.0]), np.ones(3))
    values = dict(result.variables)
    assert values["test_stat"] == pytest.approx(1.584416, abs=5e-7)
    assert values["p_value"] == pytest.approx(0.452844, abs=5e-7)
    assert result.passed


def test_chi_square_against_planned_weights_agrees_with_scipy() -> None:
    observed = np.array([1010.0, 1985.0, 3005.0])
    shares = np.array([1.0, 2.0, 3.0])
    ours = chi_square(observed, shares)
    theirs = stats.chisquare(observed, observed.sum() * shares / shares.sum())
    assert ours == pytest.approx((theirs.statistic, theirs.pvalue), rel=1e-12)
    # The same counts against an equal split are a glaring mismatch.
    assert chi_square(observed, np.ones(3))[1] < 1e-100


def test_chi_square_without_data_is_nan_not_an_error() -> None:
    assert all(np.isnan(chi_square(np.zeros(3), np.ones(3))))
    assert all(np.isnan(chi_square(np.array([5.0]), np.ones(1))))


def test_sum_ratio_reports_ratio_chi_square_and_verdict() -> None:
    check = Check(
        id=2,
        name="EVA",
        type="SumRatio",
        nominator="count(user.global.inconsistent_exposure)",
        denominator="count(user.global.exposure)",
    )
    result = sum_ratio(check, np.array([4.0, 6.0]), np.array([500.0, 500.0]))
    values = dict(result.variables)
    assert values["sum_ratio"] == pytest.approx(10 / 1010)
    expected = stats.chisquare([1000.0, 990.0])
    assert values["test_stat"] == pytest.approx(expected.statistic) == pytest.approx(10**2 / (2 * 1000 - 10))
    assert values["p_value"] == pytest.approx(expected.pvalue)
    assert values["max_sum_ratio"] == 0.01 and values["confidence_level"] == 0.999
    assert result.passed
    assert not sum_ratio(check, np.array([40.0]), np.array([1000.0])).passed


def test_checks_without_data_have_no_verdict() -> None:
    assert srm(SRM_CHECK, np.zeros(2), np.ones(2)).passed is None
    check = Check(
        id=2,
        name="EVA",
        type="SumRatio",
        nominator="count(user.global.x)",
        denominator="count(user.global.y)",
    )
    assert sum_ratio(check, np.zeros(2), np.zeros(2)).passed is None
