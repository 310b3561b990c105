"""Readouts (:mod:`expsql.stats.readouts`): one-sided tests equal GrowthBook's one-sided t-tests,
metrics where lower is better, options resolved from the experiment and ``evaluate``, and today's
two-sided results unchanged by the new columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gbstats.frequentist.tests import OneSidedTreatmentGreaterTTest, OneSidedTreatmentLesserTTest

from expsql.errors import ExperimentError
from expsql.models import validate_experiment
from expsql.stats import evaluate
from expsql.stats.readouts import resolve_readout
from tests.stats.frames import experiment, metric
from tests.stats.gbstats_oracle import arms, evaluate_pair, statistics

TOLERANCE = 1e-9


class _EpStatsFreedom:
    """gbstats' Welch–Satterthwaite degrees of freedom rounded to 5 decimals and truncated, as
    ep-stats (and so expsql) reports them; everything else is gbstats' own."""

    @property
    def dof(self) -> float:
        return float(np.trunc(np.round(super().dof, 5)))  # type: ignore[misc]


class _Greater(_EpStatsFreedom, OneSidedTreatmentGreaterTTest):
    pass


class _Lesser(_EpStatsFreedom, OneSidedTreatmentLesserTTest):
    pass


@pytest.mark.parametrize("kind", ["mean", "ratio"])
@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize(("seed", "lift"), [(31, 0.05), (32, -0.05), (33, 0.0)])
def test_one_sided_test_equals_gbstats_one_sided_t_test(
    kind: str, higher_is_better: bool, seed: int, lift: float
) -> None:
    control, treatment = arms(seed, lift)
    fields = {"one_sided": True, "higher_is_better": higher_is_better}
    ours = evaluate_pair(kind, control, treatment, metric_fields=fields, correction="none", sequential="none")
    oracle = _Greater if higher_is_better else _Lesser
    theirs = oracle(*statistics(kind, control, treatment)).compute_result()
    assert ours["p_value"] == pytest.approx(theirs.p_value, abs=TOLERANCE)
    greater = _Greater(*statistics(kind, control, treatment)).compute_result()
    if higher_is_better:
        assert ours["ci_lower"] == pytest.approx(greater.ci[0], abs=TOLERANCE)
        assert ours["ci_upper"] == np.inf
    else:
        # gbstats 0.8.0's lesser test puts its bound at estimate − width (a sign slip); the bound
        # is estimate + width, the mirror of the greater test's lower bound.
        assert ours["ci_upper"] == pytest.approx(2 * greater.expected - greater.ci[0], abs=TOLERANCE)
        assert ours["ci_lower"] == -np.inf


def test_one_sided_p_value_halves_the_two_sided_one_in_the_direction_of_improvement() -> None:
    control, treatment = arms(34, 0.06)
    two = evaluate_pair("ratio", control, treatment, sequential="none")
    up = evaluate_pair("ratio", control, treatment, metric_fields={"one_sided": True}, sequential="none")
    down = evaluate_pair(
        "ratio",
        control,
        treatment,
        metric_fields={"one_sided": True, "higher_is_better": False},
        sequential="none",
    )
    assert up["diff"] > 0
    assert up["p_value"] == pytest.approx(two["p_value"] / 2, rel=1e-12)
    assert down["p_value"] == pytest.approx(1 - two["p_value"] / 2, rel=1e-12)


def test_one_sided_always_valid_keeps_the_sequence_bound_on_the_side_of_harm() -> None:
    control, treatment = arms(35, -0.05)
    two = evaluate_pair("ratio", control, treatment, sequential="always-valid")
    up = evaluate_pair(
        "ratio", control, treatment, metric_fields={"one_sided": True}, sequential="always-valid"
    )
    assert up["ci_lower"] == two["ci_lower"] and up["ci_upper"] == np.inf
    assert up["p_value"] == 1.0  # the estimate points away from improvement


def test_new_columns_leave_todays_two_sided_results_unchanged() -> None:
    control, treatment = arms(36, 0.02)
    other = arms(37, 0.04)[1]
    rows = pd.DataFrame([control.row("a", "1"), treatment.row("b", "1"), other.row("c", "1")])
    plain = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    lower = experiment(
        [metric(1, "value(user.unit.purchase)", "count(user.unit.session)", higher_is_better=False)]
    )
    before = evaluate(plain, rows).metrics
    after = evaluate(lower, rows).metrics
    pd.testing.assert_frame_equal(before, after)


def test_options_come_from_evaluate_then_the_experiment_then_the_defaults() -> None:
    plain = experiment([metric(1, "value(user.unit.purchase)")])
    assert resolve_readout(plain).sequential == "obrien-fleming"
    assert resolve_readout(plain, inference="bayesian").sequential == "none"
    chosen = experiment(
        [metric(1, "value(user.unit.purchase)")],
        inference="bayesian",
        prior={"mean": 0.01, "variance": 0.04, "proper": True},
        decision_threshold=0.9,
    )
    readout = resolve_readout(chosen)
    assert (readout.inference, readout.prior.proper, readout.decision_threshold) == ("bayesian", True, 0.9)
    assert (
        resolve_readout(chosen, inference="frequentist", decision_threshold=0.99).decision_threshold == 0.99
    )
    with pytest.raises(ValueError, match=r"decision_threshold must be above 0\.5"):
        resolve_readout(plain, decision_threshold=0.4)
    with pytest.raises(ValueError, match="unknown inference 'frequentistic'"):
        resolve_readout(plain, inference="frequentistic")  # type: ignore[arg-type]


def test_the_experiment_refuses_a_sequential_mode_with_bayesian_inference() -> None:
    data = {"id": "e", "control_variant": "a", "unit_type": "user", "inference": "bayesian"}
    with pytest.raises(ExperimentError, match="a Bayesian readout has none"):
        validate_experiment(data | {"sequential": "obrien-fleming"})
    assert validate_experiment(data | {"sequential": "none", "prior": None}).prior.proper is False


def test_the_evaluation_records_its_readout_in_json() -> None:
    control, treatment = arms(38, 0.0)
    rows = pd.DataFrame([control.row("a", "1"), treatment.row("b", "1")])
    definition = experiment([metric(1, "value(user.unit.purchase)", "count(user.unit.session)")])
    body = evaluate(
        definition, rows, inference="bayesian", prior={"mean": 0, "variance": 0.01, "proper": True}
    ).to_dict()
    assert body["inference"] == "bayesian"
    assert body["prior"] == {"mean": 0.0, "variance": 0.01, "proper": True}
    assert body["decision_threshold"] == 0.95
    assert {"chance_to_win", "risk_control", "risk_treatment"} <= set(body["metrics"][1])


def test_a_correction_across_segments_widens_the_sequence_and_keeps_one_sided_bounds_open() -> None:
    from expsql.stats import always_valid

    rng = np.random.default_rng(39)
    rows = []
    for country in ("de", "fr", "it"):
        for variant, lift in (("a", 0.0), ("b", 0.08), ("c", 0.02)):
            arm = arms(int(rng.integers(1000)), lift)[1]
            rows.append(arm.row(variant, "1") | {"country": country})
    definition = experiment(
        [metric(1, "value(user.unit.purchase)", "count(user.unit.session)", one_sided=True)],
        breakdown=["country"],
        breakdown_correction="segments",
    )
    result = evaluate(definition, pd.DataFrame(rows), sequential="always-valid")
    assert result.breakdowns is not None
    segments = result.breakdowns.metrics
    raw = evaluate(
        definition.model_copy(update={"breakdown_correction": "segment"}),
        pd.DataFrame(rows),
        sequential="always-valid",
        correction="none",
    ).breakdowns.metrics  # type: ignore[union-attr]
    treated = (segments["exp_variant_id"] != "a").to_numpy()
    adjusted, before = segments[treated], raw[treated]
    assert (adjusted["p_value"].to_numpy() >= before["p_value"].to_numpy()).all()
    control_units = raw[~treated].set_index("segment")["count"]
    total = before["count"].to_numpy() + control_units.loc[before["segment"]].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.nan_to_num(before["p_value"].to_numpy() / adjusted["p_value"].to_numpy(), nan=1.0) * 0.05
    expected = always_valid.half_width(before["standard_error"].to_numpy(), total, level)
    np.testing.assert_allclose(adjusted["confidence_interval"].to_numpy(), expected, rtol=1e-12)
    assert (adjusted["ci_upper"] == np.inf).all()
