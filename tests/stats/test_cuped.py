"""CUPED (:mod:`expsql.stats.cuped`): equal to tea-tasting on the same units, and to the issue's oracle.

tea-tasting's ``RatioOfMeans(numer, denom, numer_covariate, denom_covariate)`` and ``Mean(value,
covariate)`` are the reference implementation: on the same per-unit data, summed into metric rows
or written as unit rows, the adjusted means of control and treatment and the absolute effect agree
to 1e-9, and so does tea-tasting's Welch p-value of the adjusted means and variances (which
:func:`expsql.stats.ttest.welch_absolute` gives from the scorecard's ``mean``, ``std``, ``count``).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tea_tasting as tt

from expsql.contracts import METRIC_COVARIATE_VALUES
from expsql.errors import RowsError
from expsql.stats import CupedWarning, evaluate
from expsql.stats.cuped import SUMS, cuped_adjust
from expsql.stats.evaluation import Evaluation
from expsql.stats.ttest import welch_absolute
from tests.stats.cuped_frames import (
    cuped_experiment,
    cuped_metric_rows,
    cuped_unit_rows,
    units,
)
from tests.stats.frames import metric, metric_row

TOLERANCE = 1e-9
#: The metrics of most tests: a ratio (revenue per session) and a mean (revenue per user).
METRICS = [
    metric(1, "value(user.unit.revenue)", "count(user.unit.session)"),
    metric(2, "value(user.unit.revenue)"),
]
COLUMNS = {
    "1": ("revenue", "sessions", "pre_revenue", "pre_sessions"),
    "2": ("revenue", "1", "pre_revenue", "1"),
}
REFERENCE = {
    "1": tt.RatioOfMeans("revenue", "sessions", "pre_revenue", "pre_sessions"),
    "2": tt.Mean("revenue", "pre_revenue"),
}


def _quiet(definition: Any, rows: pd.DataFrame) -> Evaluation:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CupedWarning)  # every metric here can be adjusted
        return evaluate(definition, rows, sequential="none")


def _row(evaluation: Evaluation, metric_id: int | str, variant: str) -> pd.Series:
    metrics = evaluation.metrics
    found = metrics[
        (metrics["metric_id"].astype(str) == str(metric_id)) & (metrics["exp_variant_id"] == variant)
    ]
    assert len(found) == 1
    return found.iloc[0]


def _reference(
    data: pd.DataFrame, metrics: dict[str, Any], variants: list[str]
) -> dict[tuple[str, str], Any]:
    """tea-tasting's result per (metric id, treatment) against control ``a``."""
    results = tt.Experiment(metrics).analyze(data, control="a", all_variants=True)
    return {
        (metric_id, treatment): results[("a", treatment)][metric_id]
        for metric_id in metrics
        for treatment in variants[1:]
    }


def _assert_matches(
    evaluation: Evaluation, reference: Any, metric_id: str, treatment: str, control: bool
) -> None:
    treated = _row(evaluation, metric_id, treatment)
    assert treated["cuped"]
    assert treated["mean"] == pytest.approx(reference.treatment, abs=TOLERANCE, rel=0)
    assert treated["absolute_diff"] == pytest.approx(reference.effect_size, abs=TOLERANCE, rel=0)
    # The control adjusted in this comparison: its own row when it is the only one.
    control_mean = treated["mean"] - treated["absolute_diff"]
    assert control_mean == pytest.approx(reference.control, abs=TOLERANCE, rel=0)
    if control:
        assert _row(evaluation, metric_id, "a")["mean"] == pytest.approx(
            reference.control, abs=TOLERANCE, rel=0
        )
    # The adjusted variances: tea-tasting's Welch test on the absolute difference.
    own = _row(evaluation, metric_id, "a")
    if control:
        welch = welch_absolute(
            own["mean"], own["std"] ** 2 / own["count"], own["count"],
            treated["mean"], treated["std"] ** 2 / treated["count"], treated["count"],
        )  # fmt: skip
        assert float(welch.p_value) == pytest.approx(reference.pvalue, rel=1e-9)


def test_two_variants_equal_tea_tasting_on_metric_rows() -> None:
    data = units(seed=1, sizes={"a": 3000, "b": 2800}, lift=0.04)
    evaluation = _quiet(cuped_experiment(METRICS), cuped_metric_rows(data, COLUMNS))
    reference = _reference(data, REFERENCE, ["a", "b"])
    for metric_id in ("1", "2"):
        _assert_matches(evaluation, reference[(metric_id, "b")], metric_id, "b", control=True)
        assert _row(evaluation, metric_id, "a")["cuped"]


def test_unit_rows_give_the_metric_rows_result_and_tea_tastings() -> None:
    data = units(seed=2, sizes={"a": 2000, "b": 2100})
    definition = cuped_experiment(METRICS)
    from_units = _quiet(definition, cuped_unit_rows(data))
    from_metric_rows = _quiet(definition, cuped_metric_rows(data, COLUMNS))
    assert from_units.contract == "unit rows"
    columns = ["mean", "std", "p_value", "confidence_interval", "variance_reduction"]
    pd.testing.assert_frame_equal(
        from_units.metrics[columns], from_metric_rows.metrics[columns], rtol=1e-9, atol=1e-12
    )
    reference = _reference(data, REFERENCE, ["a", "b"])
    for metric_id in ("1", "2"):
        _assert_matches(from_units, reference[(metric_id, "b")], metric_id, "b", control=True)


def test_each_treatment_is_compared_with_the_control_adjusted_in_its_comparison() -> None:
    data = units(seed=3, sizes={"a": 1500, "b": 1600, "c": 1400}, lift=0.05)
    evaluation = _quiet(cuped_experiment(METRICS), cuped_metric_rows(data, COLUMNS))
    reference = _reference(data, REFERENCE, ["a", "b", "c"])
    for metric_id in ("1", "2"):
        for treatment in ("b", "c"):
            _assert_matches(
                evaluation, reference[(metric_id, treatment)], metric_id, treatment, control=False
            )
        # Two comparisons, two adjusted controls: the control's own row is the unadjusted mean.
        control_means = {
            treatment: _row(evaluation, metric_id, treatment)["mean"]
            - _row(evaluation, metric_id, treatment)["absolute_diff"]
            for treatment in ("b", "c")
        }
        assert control_means["b"] != pytest.approx(control_means["c"], rel=1e-9)
        control = _row(evaluation, metric_id, "a")
        assert not control["cuped"] and np.isnan(control["variance_reduction"])
        unadjusted = _quiet(cuped_experiment(METRICS, lookback=None), cuped_metric_rows(data, COLUMNS))
        assert control["mean"] == _row(unadjusted, metric_id, "a")["mean"]


def test_the_issues_oracle_theta_adjusted_means_and_p_values() -> None:
    """tea-tasting's ``make_users_data(rng=42, covariates=True)``: orders (y) and orders_covariate (x)."""
    arms = {
        "a": {"n": 2023, "y": 1073, "y2": 2073, "x": 1090, "x2": 2720, "xy": 1691},
        "b": {"n": 1977, "y": 1133, "y2": 2121, "x": 1006, "x2": 2380, "xy": 1551},
    }
    rows = []
    for variant, s in arms.items():
        row = metric_row(variant, "1", s["n"], s["y"], s["y2"], s["n"], s["n"], s["y"])
        row |= {
            "sum_xc": s["x"],
            "sum_xc2": s["x2"],
            "sum_yc": s["n"],
            "sum_yc2": s["n"],
            "sum_xc_yc": s["x"],
        }
        row |= {"sum_x_xc": s["xy"], "sum_x_yc": s["y"], "sum_y_xc": s["x"], "sum_y_yc": s["n"]}
        rows.append(row)
    frame = pd.DataFrame(rows)
    definition = [metric(1, "count(user.unit.order)")]
    adjusted = _quiet(cuped_experiment(definition), frame)
    plain = _quiet(cuped_experiment(definition, lookback=None), frame)
    control, treatment = (_row(adjusted, 1, v) for v in ("a", "b"))
    assert control["mean"] == pytest.approx(0.5226833010781681, abs=1e-12, rel=0)
    assert treatment["mean"] == pytest.approx(0.5809871936868316, abs=1e-12, rel=0)
    theta = cuped_adjust(frame[list(SUMS)].to_numpy(float)[np.newaxis], np.array([True]), 0).theta
    assert theta[0, 1] == pytest.approx(0.521292971779963, abs=1e-12, rel=0)
    p_values = {}
    for name, evaluation in (("plain", plain), ("cuped", adjusted)):
        c, t = (_row(evaluation, 1, v) for v in ("a", "b"))
        welch = welch_absolute(
            c["mean"],
            c["std"] ** 2 / c["count"],
            c["count"],
            t["mean"],
            t["std"] ** 2 / t["count"],
            t["count"],
        )
        p_values[name] = float(welch.p_value)
    assert round(p_values["plain"], 4) == 0.1177
    assert round(p_values["cuped"], 5) == 0.00733
    # ep-stats' relative test on the same adjusted means: significant only with CUPED.
    assert _row(plain, 1, "b")["p_value"] > 0.05 > _row(adjusted, 1, "b")["p_value"]
    assert 0 < treatment["variance_reduction"] < 1 and treatment["cuped"] and not _row(plain, 1, "b")["cuped"]


def test_variance_reduction_is_one_minus_the_variance_ratio() -> None:
    data = units(seed=4, sizes={"a": 2500, "b": 2500})
    rows = cuped_metric_rows(data, COLUMNS)
    adjusted = _quiet(cuped_experiment(METRICS), rows)
    plain = _quiet(cuped_experiment(METRICS, lookback=None), rows)
    for metric_id in ("1", "2"):
        for variant in ("a", "b"):
            cuped_row, plain_row = _row(adjusted, metric_id, variant), _row(plain, metric_id, variant)
            expected = 1 - cuped_row["std"] ** 2 / plain_row["std"] ** 2
            assert cuped_row["variance_reduction"] == pytest.approx(expected, rel=1e-12)
            assert cuped_row["variance_reduction"] > 0  # activity links pre and post
            assert np.isnan(plain_row["variance_reduction"]) and not plain_row["cuped"]
    # The mean metric by hand: 1 − Var(y − θ x) / Var(y) in each variant, θ from both together.
    theta = np.cov(data["revenue"], data["pre_revenue"])[0, 1] / np.var(data["pre_revenue"], ddof=1)
    for variant, part in data.groupby("variant"):
        residual = part["revenue"] - theta * part["pre_revenue"]
        expected = 1 - np.var(residual, ddof=1) / np.var(part["revenue"], ddof=1)
        assert _row(adjusted, "2", variant)["variance_reduction"] == pytest.approx(expected, rel=1e-9)


def test_rows_without_covariates_and_experiments_without_cuped_evaluate_as_before() -> None:
    data = units(seed=5, sizes={"a": 800, "b": 900})
    with_nulls = cuped_metric_rows(data, {"1": COLUMNS["1"][:2], "2": COLUMNS["2"][:2]})
    without = with_nulls.drop(columns=list(METRIC_COVARIATE_VALUES))
    plain = cuped_experiment(METRICS, lookback=None)
    expected = evaluate(plain, without)
    assert not expected.metrics["cuped"].any() and expected.metrics["variance_reduction"].isna().all()
    pd.testing.assert_frame_equal(evaluate(plain, with_nulls).metrics, expected.metrics)
    # CUPED asked for, covariates present, but the experiment is off: not adjusted either.
    full = cuped_metric_rows(data, COLUMNS)
    pd.testing.assert_frame_equal(evaluate(plain, full).metrics, expected.metrics)


def test_a_metric_that_opts_out_or_has_null_covariates_is_unadjusted() -> None:
    data = units(seed=6, sizes={"a": 900, "b": 900})
    definition = cuped_experiment([METRICS[0] | {"cuped": False}, METRICS[1]])
    evaluation = _quiet(definition, cuped_metric_rows(data, COLUMNS))
    assert not evaluation.metrics.loc[evaluation.metrics["metric_id"] == 1, "cuped"].any()
    assert evaluation.metrics.loc[evaluation.metrics["metric_id"] == 2, "cuped"].all()
    # Adjusted metric, but its rows carry NULL covariates: unadjusted, with a warning naming it.
    nulls = cuped_metric_rows(data, {"1": COLUMNS["1"][:2], "2": COLUMNS["2"]})
    with pytest.warns(CupedWarning, match=r"metric 1 \(metric 1\) variant b"):
        evaluation = evaluate(cuped_experiment(METRICS), nulls)
    assert not evaluation.metrics.loc[evaluation.metrics["metric_id"] == 1, "cuped"].any()
    assert any("CUPED not applied" in message for message in evaluation.warnings)


def test_a_covariate_without_variance_falls_back_to_the_unadjusted_result_with_a_warning() -> None:
    data = units(seed=7, sizes={"a": 700, "b": 700}).assign(pre_revenue=0.0, pre_sessions=0.0)
    rows = cuped_metric_rows(data, {"2": COLUMNS["2"]})
    definition = cuped_experiment([METRICS[1]])
    with pytest.warns(CupedWarning, match="no variance"):
        evaluation = evaluate(definition, rows)
    expected = evaluate(cuped_experiment([METRICS[1]], lookback=None), rows)
    pd.testing.assert_frame_equal(evaluation.metrics, expected.metrics)


def test_cuped_requested_on_rows_without_covariate_columns_warns_and_evaluates_unadjusted() -> None:
    rows = cuped_metric_rows(units(seed=8, sizes={"a": 500, "b": 500}), {"2": COLUMNS["2"][:2]})
    rows = rows.drop(columns=list(METRIC_COVARIATE_VALUES))
    with pytest.warns(CupedWarning, match="carry no covariate sums"):
        evaluation = evaluate(cuped_experiment([METRICS[1]]), rows)
    assert not evaluation.metrics["cuped"].any()


def test_some_but_not_all_covariate_columns_are_a_rows_error() -> None:
    rows = cuped_metric_rows(units(seed=9, sizes={"a": 100, "b": 100}), {"2": COLUMNS["2"]})
    with pytest.raises(RowsError, match="miss sum_y_yc"):
        evaluate(cuped_experiment([METRICS[1]]), rows.drop(columns=["sum_y_yc"]))


def test_winsorized_metric_caps_its_covariate_at_the_pre_exposure_percentiles() -> None:
    data = units(seed=10, sizes={"a": 1500, "b": 1500})
    capped = metric(3, "value(user.unit.revenue)", outlier_upper_percentile=5)
    evaluation = _quiet(cuped_experiment([capped]), cuped_unit_rows(data))
    # The reference: both caps over all exposed units, pandas' linear interpolation.
    clipped = data.assign(
        revenue=data["revenue"].clip(upper=data["revenue"].quantile(0.95)),
        pre_revenue=data["pre_revenue"].clip(upper=data["pre_revenue"].quantile(0.95)),
    )
    reference = _reference(clipped, {"3": tt.Mean("revenue", "pre_revenue")}, ["a", "b"])
    _assert_matches(evaluation, reference[("3", "b")], "3", "b", control=True)


def test_the_exposure_goal_reads_one_per_unit_before_exposure() -> None:
    data = units(seed=11, sizes={"a": 1200, "b": 1300})
    # Revenue per exposure: the denominator's covariate is 1 per unit, so this is Mean(revenue, pre).
    per_exposure = metric(4, "value(user.unit.revenue)", "count(user.global.exposure)")
    # ... and the exposure in a nominator is 1 per unit too: 2 + revenue has the covariate 2 + pre.
    shifted = metric(5, "count(user.global.exposure) * 2 + value(user.unit.revenue)")
    evaluation = _quiet(cuped_experiment([per_exposure, shifted]), cuped_unit_rows(data))
    reference = _reference(data, {"4": tt.Mean("revenue", "pre_revenue")}, ["a", "b"])
    _assert_matches(evaluation, reference[("4", "b")], "4", "b", control=True)
    for variant in ("a", "b"):
        assert _row(evaluation, 5, variant)["mean"] == pytest.approx(_row(evaluation, 4, variant)["mean"] + 2)


def test_cuped_columns_reach_json_and_the_text_table() -> None:
    data = units(seed=12, sizes={"a": 400, "b": 400})
    evaluation = _quiet(cuped_experiment(METRICS), cuped_metric_rows(data, COLUMNS))
    payload = json.loads(json.dumps(evaluation.to_dict(), allow_nan=False))
    assert all(row["cuped"] is True for row in payload["metrics"])
    assert all(0 < row["variance_reduction"] < 1 for row in payload["metrics"])
    text = str(evaluation)
    reduction = payload["metrics"][1]["variance_reduction"]
    assert "CUPED" in text.splitlines()[3] and f"{-reduction:+.1%} var" in text
    assert "CUPED" not in str(
        _quiet(cuped_experiment(METRICS, lookback=None), cuped_metric_rows(data, COLUMNS))
    )
