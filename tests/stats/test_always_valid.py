"""Always-valid confidence sequences (:mod:`expsql.stats.always_valid`): equal to GrowthBook's
``SequentialTwoSidedTTest`` to 1e-9 on the same statistics, consistent with their own p-value, and
through :func:`expsql.evaluate` on every look without α spending."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest

from expsql.stats import always_valid as av
from expsql.stats import evaluate
from tests.stats.frames import experiment, metric
from tests.stats.gbstats_oracle import arms, evaluate_pair, statistics
from tests.stats.timeline_frames import WINDOW, timeline_rows, units

TOLERANCE = 1e-9


@pytest.mark.parametrize("kind", ["mean", "ratio"])
@pytest.mark.parametrize("tuning", [5000.0, 800.0])
@pytest.mark.parametrize("level", [0.95, 0.9])
@pytest.mark.parametrize(("seed", "lift"), [(11, 0.05), (12, -0.04), (13, 0.0)])
def test_sequence_and_p_value_equal_gbstats_sequential_test(
    kind: str, tuning: float, level: float, seed: int, lift: float
) -> None:
    control, treatment = arms(seed, lift)
    ours = evaluate_pair(
        kind,
        control,
        treatment,
        experiment_fields={"confidence_level": level},
        sequential="always-valid",
        sequential_tuning=tuning,
    )
    config = SequentialConfig(alpha=1 - level, sequential_tuning_parameter=tuning)
    theirs = SequentialTwoSidedTTest(*statistics(kind, control, treatment), config).compute_result()
    assert ours["ci_lower"] == pytest.approx(theirs.ci[0], abs=TOLERANCE)
    assert ours["ci_upper"] == pytest.approx(theirs.ci[1], abs=TOLERANCE)
    assert ours["p_value"] == pytest.approx(theirs.p_value, abs=TOLERANCE)
    assert ours["diff"] == pytest.approx(theirs.expected, abs=TOLERANCE)


def test_the_p_value_is_below_alpha_exactly_when_the_sequence_excludes_zero() -> None:
    rng = np.random.default_rng(21)
    estimate = rng.normal(0, 0.03, 2000)
    error = rng.uniform(0.005, 0.02, 2000)
    total = rng.integers(100, 100_000, 2000).astype(float)
    width = av.half_width(error, total, 0.05)
    p = av.p_value(estimate / error, total, 0.05)
    excludes = np.abs(estimate) > width
    near = np.isclose(np.abs(estimate), width, rtol=1e-9)
    assert ((p < 0.05) == excludes)[~near].all()
    assert excludes.any() and (~excludes).any()


def test_the_sequence_is_tightest_near_the_tuning_sample_size() -> None:
    totals = np.geomspace(100, 1_000_000, 4001)
    # Width relative to the fixed-horizon 1.96 · se at each N (se ∝ 1/√N): smallest near the tuning.
    relative = av.half_width(1 / np.sqrt(totals), totals, 0.05, 5000) * np.sqrt(totals)
    best = totals[np.argmin(relative)]
    assert 1000 < best < 25_000
    assert (relative > 1.96).all()


def test_a_huge_e_value_is_a_p_value_of_zero_not_an_overflow() -> None:
    p = av.p_value(np.array([1e4]), np.array([1e6]), 0.05)
    assert p[0] == 0.0


def test_always_valid_timeline_reads_every_day_at_the_nominal_level() -> None:
    definition = experiment(
        [metric(1, "count(user.unit.click)")], **WINDOW, timeline="daily", sequential="always-valid"
    )
    result = evaluate(definition, timeline_rows(units()))
    timeline = result.timeline
    assert timeline is not None and result.sequential == "always-valid"
    assert (timeline["confidence_level"] == definition.confidence_level).all()
    last = timeline[timeline["day"] == timeline["day"].max()].reset_index(drop=True)
    np.testing.assert_array_equal(last["ci_lower"].to_numpy(), result.metrics["ci_lower"].to_numpy())
    np.testing.assert_array_equal(last["p_value"].to_numpy(), result.metrics["p_value"].to_numpy())


def test_a_sparse_treatment_keeps_ep_stats_rule_rather_than_an_infinite_statistic() -> None:
    from tests.stats.frames import metric_row

    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    control = arms(14, 0.0)[0]
    rows = pd.DataFrame([control.row("a", "1"), metric_row("b", "1", 100, 0, 0, 100, 100, 0)])
    fixed = evaluate(definition, rows, sequential="none").metrics
    sequence = evaluate(definition, rows, sequential="always-valid").metrics
    assert fixed.loc[1, "test_stat"] == 0 and fixed.loc[1, "p_value"] == 1
    assert sequence.loc[1, "p_value"] == 1 and not sequence.loc[1, "significant"]
