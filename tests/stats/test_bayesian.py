"""Bayesian readouts (:mod:`expsql.stats.bayesian`): equal to GrowthBook's ``EffectBayesianABTest``
to 1e-9 on the same sufficient statistics, for mean and ratio metrics, flat and proper priors,
metrics where higher and where lower is better; and through :func:`expsql.evaluate`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from scipy import integrate, stats

from expsql.stats import DegenerateInputWarning, evaluate
from expsql.stats.bayesian import decided, posterior
from tests.stats.frames import experiment, metric, metric_row
from tests.stats.gbstats_oracle import arms, evaluate_pair, statistics

TOLERANCE = 1e-9
PRIORS = {
    "flat": {"mean": 0.0, "variance": 1.0, "proper": False},
    "proper": {"mean": 0.02, "variance": 0.0025, "proper": True},
}


@pytest.mark.parametrize("kind", ["mean", "ratio"])
@pytest.mark.parametrize("prior", sorted(PRIORS))
@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize(("seed", "lift"), [(1, 0.04), (2, -0.03), (3, 0.0)])
def test_posterior_equals_gbstats_effect_bayesian_test(
    kind: str, prior: str, higher_is_better: bool, seed: int, lift: float
) -> None:
    control, treatment = arms(seed, lift)
    gaussian = PRIORS[prior]
    ours = evaluate_pair(
        kind,
        control,
        treatment,
        metric_fields={"higher_is_better": higher_is_better},
        inference="bayesian",
        prior=gaussian,
    )
    config = EffectBayesianConfig(
        inverse=not higher_is_better, alpha=0.05, prior_effect=GaussianPrior(**gaussian)
    )
    theirs = EffectBayesianABTest(*statistics(kind, control, treatment), config).compute_result()
    assert theirs.error_message is None
    assert ours["diff"] == pytest.approx(theirs.expected, abs=TOLERANCE, rel=TOLERANCE)
    assert ours["chance_to_win"] == pytest.approx(theirs.chance_to_win, abs=TOLERANCE)
    assert ours["risk_control"] == pytest.approx(theirs.risk[0], abs=TOLERANCE)
    assert ours["risk_treatment"] == pytest.approx(theirs.risk[1], abs=TOLERANCE)
    assert ours["ci_lower"] == pytest.approx(theirs.ci[0], abs=TOLERANCE)
    assert ours["ci_upper"] == pytest.approx(theirs.ci[1], abs=TOLERANCE)
    assert ours["standard_error"] == pytest.approx(theirs.uplift.stddev, abs=TOLERANCE)
    assert np.isnan(ours["p_value"])


def test_risks_are_the_expected_positive_and_negative_parts_of_the_effect() -> None:
    post = posterior(np.array([0.03]), np.array([0.02**2]), 0.95)
    upside, _ = integrate.quad(lambda x: x * stats.norm.pdf(x, 0.03, 0.02), 0, np.inf)
    downside, _ = integrate.quad(lambda x: -x * stats.norm.pdf(x, 0.03, 0.02), -np.inf, 0)
    assert post.risk_control[0] == pytest.approx(upside, rel=1e-8)
    assert post.risk_treatment[0] == pytest.approx(downside, rel=1e-8)


def test_lower_is_better_flips_the_chance_to_win_and_swaps_the_risks() -> None:
    up = posterior(np.array([0.03]), np.array([4e-4]), 0.95)
    down = posterior(np.array([0.03]), np.array([4e-4]), 0.95, higher_is_better=False)
    assert down.chance_to_win[0] == pytest.approx(1 - up.chance_to_win[0])
    assert (down.risk_control[0], down.risk_treatment[0]) == (up.risk_treatment[0], up.risk_control[0])


def test_a_treatment_won_or_lost_only_past_the_decision_threshold() -> None:
    chances = np.array([0.97, 0.94, 0.5, 0.06, 0.03, np.nan])
    assert decided(chances, 0.95).tolist() == [True, False, False, False, True, False]
    assert decided(chances, 0.9).tolist() == [True, True, False, True, True, False]


def test_bayesian_evaluation_applies_no_correction_and_says_so() -> None:
    control, treatment = arms(4, 0.03)
    other = arms(5, 0.01)[1]
    rows = pd.DataFrame([control.row("a", "1"), treatment.row("b", "1"), other.row("c", "1")])
    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    three = evaluate(definition, rows, inference="bayesian").metrics.set_index("exp_variant_id")
    alone = evaluate(definition, rows.iloc[:2], inference="bayesian").metrics.set_index("exp_variant_id")
    # The third variant changes nothing about b: no family, no correction.
    assert three.loc["b", "chance_to_win"] == alone.loc["b", "chance_to_win"]
    assert three.loc["b", "ci_lower"] == alone.loc["b", "ci_lower"]
    result = evaluate(definition, rows, inference="bayesian")
    assert (result.inference, result.correction, result.sequential) == ("bayesian", "none", "none")
    assert "no multiple-comparison correction" in str(result)
    assert "chance to win" in str(result) and "p-value" not in str(result)


def test_the_verdict_follows_the_decision_threshold() -> None:
    control, treatment = arms(6, 0.06)
    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    rows = pd.DataFrame([control.row("a", "1"), treatment.row("b", "1")])
    metrics = evaluate(definition, rows, inference="bayesian").metrics
    chance = float(metrics.loc[1, "chance_to_win"])
    assert 0.5 < chance < 1
    below, above = (chance + 1) / 2, (chance + 0.5) / 2
    assert not evaluate(definition, rows, inference="bayesian", decision_threshold=below).metrics.loc[
        1, "significant"
    ]
    assert evaluate(definition, rows, inference="bayesian", decision_threshold=above).metrics.loc[
        1, "significant"
    ]


def test_degenerate_input_is_nan_with_a_named_warning() -> None:
    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    rows = pd.DataFrame(
        [metric_row("a", "1", 100, 0, 0, 100, 100, 0), metric_row("b", "1", 100, 5, 5, 100, 100, 5)]
    )
    with pytest.warns(DegenerateInputWarning, match="metric 1 .* variant b: the control mean is 0"):
        metrics = evaluate(definition, rows, inference="bayesian").metrics
    treatment = metrics[metrics["exp_variant_id"] == "b"].iloc[0]
    for column in ("diff", "chance_to_win", "risk_control", "risk_treatment", "ci_lower", "ci_upper"):
        assert np.isnan(treatment[column]), column


def test_frequentist_evaluation_leaves_the_bayesian_columns_nan() -> None:
    control, treatment = arms(7, 0.02)
    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    result = evaluate(definition, pd.DataFrame([control.row("a", "1"), treatment.row("b", "1")]))
    assert result.inference == "frequentist"
    assert result.metrics[["chance_to_win", "risk_control", "risk_treatment"]].isna().all().all()


def test_a_bayesian_readout_refuses_a_sequential_mode() -> None:
    definition = experiment([metric(1, "value(user.unit.purchase)")])
    rows = pd.DataFrame([arms(8, 0)[0].row("a", "1"), arms(8, 0)[1].row("b", "1")])
    with pytest.raises(ValueError, match="a Bayesian readout has none"):
        evaluate(definition, rows, inference="bayesian", sequential="always-valid")


def test_a_treatment_without_variance_has_no_posterior_and_says_so() -> None:
    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    control = arms(9, 0.0)[0]
    rows = pd.DataFrame([control.row("a", "1"), metric_row("b", "1", 100, 0, 0, 100, 100, 0)])
    with pytest.warns(DegenerateInputWarning, match="variant b: zero standard error of the difference"):
        metrics = evaluate(definition, rows, inference="bayesian").metrics
    assert metrics.loc[1, ["chance_to_win", "risk_control", "ci_lower"]].isna().all()
