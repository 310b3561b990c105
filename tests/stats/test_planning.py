"""Planning: ep-stats' sample sizes, the minimum detectable effect as its inverse, power, FPR."""

from __future__ import annotations

import math

import numpy as np
import pytest

from expsql.stats.planning import (
    achieved_power,
    false_positive_risk,
    minimum_detectable_effect,
    power,
    required_sample_sizes,
    sample_size,
)


@pytest.mark.parametrize(
    ("n_variants", "effect", "mean", "std", "expected"),
    [(2, 0.1, 0.2, 1.2, 56512), (2, 0.05, 0.4, None, 9489), (3, 0.05, 0.4, None, 11492)],
)
def test_sample_size_matches_the_ep_stats_endpoint(
    n_variants: int, effect: float, mean: float, std: float | None, expected: int
) -> None:
    assert sample_size(n_variants, effect, mean, std) == expected


def test_sample_size_edge_cases_follow_ep_stats() -> None:
    assert math.isnan(sample_size(2, 0.1, 0.0, 0.0))
    assert sample_size(2, 0.1, 0.0, 1.0) == math.inf
    with pytest.raises(ValueError, match="greater than zero"):
        sample_size(2, -0.1, 0.2, 1.0)
    with pytest.raises(ValueError, match="two variants"):
        sample_size(1, 0.1, 0.2, 1.0)
    with pytest.raises(ValueError, match="between zero and one"):
        sample_size(2, 0.1, 1.5)
    # Huge inputs give inf, never an OverflowError; a treatment rate above 1 gives NaN, as in ep-stats.
    assert sample_size(2, 0.1, 0.2, 1e200) == math.inf
    assert math.isnan(sample_size(2, 1.5, 0.5))


@pytest.mark.parametrize("std", [1.2, None])
@pytest.mark.parametrize("n_variants", [2, 4])
def test_minimum_detectable_effect_inverts_the_sample_size(std: float | None, n_variants: int) -> None:
    for units in (500.0, 9489.0, 123_456.0):
        effect = minimum_detectable_effect(n_variants, units, 0.3, std)
        # Unrounded, the sample size of the MDE is exactly the units we started from.
        assert sample_size(n_variants, effect, 0.3, std) == round(units)
        assert power(n_variants, units, effect, 0.3, std) == pytest.approx(0.8, abs=1e-9)
    effect = 0.05
    units = sample_size(n_variants, effect, 0.3, std)
    assert minimum_detectable_effect(n_variants, units, 0.3, std) == pytest.approx(effect, rel=1e-3)


def test_power_grows_with_the_sample_size() -> None:
    assert power(2, 100, 0.05, 0.4) < power(2, 10_000, 0.05, 0.4) < power(2, 100_000, 0.05, 0.4)


def test_achieved_power_from_the_required_sample_size_is_ep_stats_formula() -> None:
    required = required_sample_sizes(
        2, np.array([0.1]), np.array([0.2]), np.array([1.2]), np.array([1.2]), 0.95
    )
    assert required.tolist() == [56512]
    assert achieved_power(2, np.array([56512.0]), required, 0.95) == pytest.approx([0.8], abs=1e-5)
    assert np.isnan(achieved_power(2, np.array([10.0]), np.array([0.0]), 0.95)[0])
    assert np.isnan(achieved_power(1, np.array([10.0]), np.array([10.0]), 0.95)[0])


def test_false_positive_risk_only_for_significant_rows_with_a_null_rate() -> None:
    p_values = np.array([0.01, 0.2])
    risk = false_positive_risk(p_values, np.array([0.8, 0.8]), 0.9, 0.95)
    assert risk[0] == pytest.approx(0.01 * 0.9 / (0.01 * 0.9 + 0.8 * 0.1))
    assert np.isnan(risk[1])
    assert np.isnan(false_positive_risk(p_values, np.array([0.8, 0.8]), None, 0.95)).all()


@pytest.mark.parametrize("std", [1.2, None])
def test_cuped_variance_reduction_scales_the_variances(std: float | None) -> None:
    reduction = 0.49
    plain = sample_size(2, 0.05, 0.3, std)
    adjusted = sample_size(2, 0.05, 0.3, std, variance_reduction=reduction)
    assert adjusted == sample_size(2, 0.05, 0.3, std, rho=0.7) == sample_size(2, 0.05, 0.3, std, rho=-0.7)
    assert adjusted == pytest.approx((1 - reduction) * plain, abs=1)
    if std is not None:  # the same as a smaller standard deviation
        assert adjusted == sample_size(2, 0.05, 0.3, std * math.sqrt(1 - reduction))
        assert power(2, 5000, 0.05, 0.3, std, variance_reduction=reduction) == pytest.approx(
            power(2, 5000, 0.05, 0.3, std * math.sqrt(1 - reduction)), rel=1e-12
        )
    for units in (800.0, 20_000.0):
        effect = minimum_detectable_effect(2, units, 0.3, std, variance_reduction=reduction)
        assert sample_size(2, effect, 0.3, std, variance_reduction=reduction) == round(units)
        assert power(2, units, effect, 0.3, std, rho=0.7) == pytest.approx(0.8, abs=1e-9)


def test_cuped_sample_size_agrees_with_statsmodels_on_the_reduced_standard_deviation() -> None:
    from statsmodels.stats.power import NormalIndPower

    mean, effect, std, rho = 2.0, 0.03, 3.0, 0.7
    standardized = mean * effect / (std * math.sqrt(1 - rho**2))
    expected = NormalIndPower().solve_power(standardized, alpha=0.05, power=0.8, ratio=1.0)
    assert sample_size(2, effect, mean, std, rho=rho) == pytest.approx(expected, abs=2)


def test_cuped_planning_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="not both"):
        sample_size(2, 0.05, 0.3, 1.0, variance_reduction=0.3, rho=0.5)
    with pytest.raises(ValueError, match="rho must be between"):
        minimum_detectable_effect(2, 1000, 0.3, 1.0, rho=1.0)
    with pytest.raises(ValueError, match="variance_reduction must be"):
        power(2, 1000, 0.05, 0.3, 1.0, variance_reduction=1.0)
