"""Planning for ``sequential: always-valid`` (:mod:`expsql.stats.planning`): the sample size is the
smallest whose confidence-sequence power reaches the target, the MDE its inverse, the predicted
power what a seeded simulation through :func:`expsql.evaluate` achieves, and the group-sequential
modes, which have no planning, a clear error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.calibration import BUY_RATE, LOG_MEAN, LOG_SD
from benchmarks.calibration_readouts import batch_sums, treatment_rows
from expsql.stats import minimum_detectable_effect, power, sample_size

EXPERIMENTS = 400


@pytest.mark.parametrize(("mean", "std"), [(0.4, None), (3.0, 2.0)])
def test_the_sample_size_is_the_smallest_with_the_target_power(mean: float, std: float | None) -> None:
    units = sample_size(2, 0.05, mean, std, sequential="always-valid")
    assert power(2, units, 0.05, mean, std, sequential="always-valid") >= 0.8
    assert power(2, units - 1, 0.05, mean, std, sequential="always-valid") < 0.8
    assert units > sample_size(2, 0.05, mean, std)  # the price of reading at any time


@pytest.mark.parametrize(("mean", "std"), [(0.4, None), (3.0, 2.0)])
def test_the_minimum_detectable_effect_inverts_the_sample_size(mean: float, std: float | None) -> None:
    effect = minimum_detectable_effect(2, 20_000, mean, std, sequential="always-valid")
    assert power(2, 20_000, effect, mean, std, sequential="always-valid") == pytest.approx(0.8, abs=1e-9)
    assert sample_size(2, effect * 1.0001, mean, std, sequential="always-valid") <= 20_000


def test_more_variants_and_cuped_change_the_size_as_at_the_fixed_horizon() -> None:
    two = sample_size(2, 0.05, 3.0, 2.0, sequential="always-valid")
    assert sample_size(4, 0.05, 3.0, 2.0, sequential="always-valid") > two
    assert sample_size(2, 0.05, 3.0, 2.0, sequential="always-valid", rho=0.7) < 0.6 * two


def test_the_predicted_power_is_what_a_simulation_achieves() -> None:
    mean = BUY_RATE * math.exp(LOG_MEAN + LOG_SD**2 / 2)
    second = BUY_RATE * math.exp(2 * LOG_MEAN + 2 * LOG_SD**2)
    std = math.sqrt(second - mean**2)
    lift = 0.1
    units = int(sample_size(2, lift, mean, std, std * (1 + lift), sequential="always-valid"))
    sums = batch_sums(np.random.default_rng(301), EXPERIMENTS, units, lift)
    achieved = treatment_rows(sums, sequential="always-valid")["significant"].mean()
    assert abs(achieved - 0.8) <= 3 * math.sqrt(0.8 * 0.2 / EXPERIMENTS)


@pytest.mark.parametrize("mode", ["obrien-fleming", "ep-stats"])
def test_group_sequential_modes_have_no_planning_and_say_so(mode: str) -> None:
    with pytest.raises(ValueError, match="has no sample size or power here"):
        sample_size(2, 0.05, 0.4, sequential=mode)
    with pytest.raises(ValueError, match="plan at the fixed horizon"):
        power(2, 1000, 0.05, 0.4, sequential=mode)
