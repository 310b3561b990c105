"""``evaluate`` end to end on hand-built goal rows and metric rows."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from expsql.stats import DegenerateInputWarning, evaluate, sample_size
from expsql.stats.metric_rows import ratio_statistics
from expsql.stats.tables import METRIC_COLUMNS
from tests.stats.frames import EXPOSURES, experiment, exposure_row, goal_row, metric, metric_row

CTR = metric(1, "count(user.unit.click)")
SRM = {"id": 1, "name": "SRM", "denominator": EXPOSURES}


def readme_rows(names: tuple[str, str, str] = ("a", "b", "c")) -> list[dict[str, object]]:
    """ep-stats' README example: CTR of 5/21, 7/26 and 9/30, one click at most per unit."""
    rows = []
    for variant, (units, clicks) in zip(names, ((21, 5), (26, 7), (30, 9)), strict=True):
        rows += [exposure_row(variant, units), goal_row(variant, "click", count=clicks)]
    return rows


def test_the_ep_stats_readme_example_gives_its_published_scorecard() -> None:
    evaluation = evaluate(experiment([CTR], checks=[SRM]), readme_rows())
    metrics = evaluation.metrics.set_index("exp_variant_id")
    assert metrics.loc["a", "mean"] == pytest.approx(0.238095, abs=5e-7)
    assert metrics.loc["a", "std"] == pytest.approx(0.436436, abs=5e-7)
    assert metrics.loc["b", "diff"] == pytest.approx(0.130769, abs=5e-7)
    assert metrics.loc["b", "standard_error"] == pytest.approx(0.586008, abs=5e-7)
    assert metrics.loc["b", "test_stat"] == pytest.approx(0.223152, abs=5e-7)
    # Holm over the two treatments: both p-values become 1, the CIs widen to ep-stats' figures.
    assert metrics.loc[["b", "c"], "p_value"].tolist() == [1.0, 1.0]
    assert metrics.loc["b", "confidence_interval"] == pytest.approx(1.233215, abs=5e-6)
    assert metrics.loc["c", "confidence_interval"] == pytest.approx(1.353695, abs=5e-6)
    assert not metrics["significant"].any()
    checks = evaluation.checks.set_index("variable_id")
    assert checks.loc["test_stat", "value"] == pytest.approx(1.584416, abs=5e-7)
    assert checks.loc["p_value", "value"] == pytest.approx(0.452844, abs=5e-7)
    assert checks["passed"].all()
    assert evaluation.exposures["exposures"].tolist() == [21, 26, 30]
    assert tuple(evaluation.metrics.columns) == METRIC_COLUMNS


@pytest.mark.parametrize(("names", "control"), [(("b", "a", "c"), "b"), (("z", "x", "y"), "z")])
def test_holm_adjusts_the_treatments_whatever_the_control_is_called(
    names: tuple[str, ...], control: str
) -> None:
    reference = evaluate(experiment([CTR]), readme_rows(), correction="none").metrics
    raw = reference["p_value"].to_numpy()[1:]
    renamed = evaluate(experiment([CTR], control_variant=control), readme_rows(names)).metrics
    by_variant = renamed.set_index("exp_variant_id")
    treatments = [names[1], names[2]]
    assert by_variant.loc[treatments, "p_value"].to_numpy() == pytest.approx(
        multipletests(raw, method="holm")[1]
    )
    assert by_variant.loc[control, "p_value"] == 1.0 and by_variant.loc[control, "diff"] == 0


def test_corrections_are_options() -> None:
    rows = readme_rows()
    raw = evaluate(experiment([CTR]), rows, correction="none").metrics["p_value"].to_numpy()[1:]
    for ours, theirs in (("bonferroni", "bonferroni"), ("benjamini-hochberg", "fdr_bh")):
        adjusted = evaluate(experiment([CTR]), rows, correction=ours).metrics["p_value"].to_numpy()[1:]
        assert adjusted == pytest.approx(multipletests(raw, method=theirs)[1])
    with pytest.raises(ValueError, match="unknown correction"):
        evaluate(experiment([CTR]), rows, correction="sidak")  # type: ignore[arg-type]


def test_metric_rows_give_exact_ratio_statistics() -> None:
    definition = experiment(
        [metric(7, "count(user.unit.order)", "count(user.unit.session)")],
        checks=[SRM, {"id": 2, "name": "EVA", "type": "SumRatio", "nominator": "count(user.global.x)",
                      "denominator": EXPOSURES}],
    )  # fmt: skip
    rows = [
        metric_row("a", "7", 2023, 1073, 2073, 4038, 10098, 2648),
        metric_row("b", "7", 1977, 1133, 2121, 3920, 9698, 2730),
        metric_row("a", "@exposure", 2023, 2023, 2023, 2023, 2023, 2023),
        metric_row("b", "@exposure", 1977, 1977, 1977, 1977, 1977, 1977),
        metric_row("a", "@check:1", 2023, 0, 0, 2023, 2023, 0),
        metric_row("b", "@check:1", 1977, 0, 0, 1977, 1977, 0),
        metric_row("a", "@check:2", 2023, 3, 3, 2023, 2023, 3),
        metric_row("b", "@check:2", 1977, 2, 2, 1977, 1977, 2),
    ]
    evaluation = evaluate(definition, rows)
    assert evaluation.contract == "metric rows"
    metrics = evaluation.metrics
    assert metrics["mean"].tolist() == pytest.approx([0.2657256067360079, 0.28903061224489796], rel=1e-14)
    assert metrics["count"].tolist() == [2023, 1977]
    ratios = ratio_statistics(
        np.array([2023.0, 1977]), np.array([1073.0, 1133]), np.array([2073.0, 2121]),
        np.array([4038.0, 3920]), np.array([10098.0, 9698]), np.array([2648.0, 2730]),
    )  # fmt: skip
    r_c, r_t = ratios.ratio
    se = math.sqrt(r_t**2 * ratios.variance[0] / r_c**2 + ratios.variance[1]) / r_c
    assert metrics.loc[1, "standard_error"] == pytest.approx(se, rel=1e-10)
    assert metrics.loc[1, "test_stat"] == pytest.approx((r_t - r_c) / r_c / se, rel=1e-10)
    df = metrics.loc[1, "degrees_of_freedom"]
    assert metrics.loc[1, "p_value"] == pytest.approx(
        2 * stats.t.sf(metrics.loc[1, "test_stat"], df), rel=1e-10
    )
    assert evaluation.exposures["exposures"].tolist() == [2023, 1977]
    checks = evaluation.checks.set_index(["check_id", "variable_id"])["value"]
    assert checks[(1, "test_stat")] == pytest.approx(stats.chisquare([2023, 1977]).statistic)
    assert checks[(2, "sum_ratio")] == pytest.approx(5 / (5 + 4000))


def test_degenerate_variants_give_nan_and_one_warning_naming_metric_and_variant() -> None:
    rows = [*readme_rows(), exposure_row("d", 1), goal_row("d", "click", count=1)]
    definition = experiment([CTR, metric(2, "value(user.unit.click)")])
    with pytest.warns(DegenerateInputWarning, match=r"metric 1 \(metric 1\) variant d: one unit or none"):
        evaluation = evaluate(definition, rows)
    metrics = evaluation.metrics.set_index(["metric_id", "exp_variant_id"])
    assert math.isnan(metrics.loc[(1, "d"), "p_value"]) and math.isnan(metrics.loc[(1, "d"), "ci_lower"])
    assert metrics.loc[(1, "b"), "p_value"] == pytest.approx(1.0)
    # Metric 2 reads sum_value, which is 0 everywhere: the control mean is 0.
    assert metrics.loc[(2, "b"), "p_value"] != metrics.loc[(2, "b"), "p_value"]
    assert any("the control mean is 0" in message for message in evaluation.warnings)


def test_sequential_modes_set_the_reported_confidence_level() -> None:
    dates = {"date_from": "2026-01-01", "date_to": "2026-01-05", "date_for": "2026-01-03"}
    definition = experiment([CTR], **dates)
    exact = evaluate(definition, readme_rows())
    assert exact.confidence_level == pytest.approx(1 - 2 * stats.norm.sf(2.6802), abs=1e-5)
    assert (exact.metrics["confidence_level"] == exact.confidence_level).all()
    assert evaluate(definition, readme_rows(), sequential="ep-stats").confidence_level == 0.9886
    assert evaluate(definition, readme_rows(), sequential="none").confidence_level == 0.95
    wider = evaluate(definition, readme_rows(), correction="none").metrics["confidence_interval"]
    nominal = evaluate(definition, readme_rows(), correction="none", sequential="none").metrics
    assert (wider > nominal["confidence_interval"]).all()
    assert dt.date(2026, 1, 3) == definition.date_for


def test_planning_columns_follow_ep_stats() -> None:
    rows = [exposure_row("a", 5000), exposure_row("b", 5000)]
    rows += [
        goal_row(v, "buy", count=n, sum_value=10 * n, sum_sqr_value=100 * n)
        for v, n in (("a", 1000), ("b", 1150))
    ]
    metrics = [
        metric(1, "count(user.unit.buy)", minimum_effect=0.1),
        metric(2, "count(user.unit.buy)", "value(user.unit.buy)"),
    ]
    definition = experiment(metrics, null_hypothesis_rate=0.8)
    metrics = evaluate(definition, rows).metrics.set_index(["metric_id", "exp_variant_id"])
    control, treatment = metrics.loc[(1, "a")], metrics.loc[(1, "b")]
    assert math.isnan(control["minimum_effect"]) and treatment["minimum_effect"] == 0.1
    expected = sample_size(2, 0.1, control["mean"], control["std"], treatment["std"])
    assert treatment["required_sample_size"] == expected
    assert treatment["sample_size"] == 5000
    z = stats.norm.isf(0.025)
    power = stats.norm.cdf(math.sqrt(5000 / expected) * (z + stats.norm.ppf(0.8)) - z)
    assert treatment["power"] == pytest.approx(power)
    assert treatment["significant"]
    p = treatment["p_value"]
    assert treatment["false_positive_risk"] == pytest.approx(p * 0.8 / (p * 0.8 + power * 0.2))
    assert math.isnan(metrics.loc[(2, "b"), "sample_size"])  # ep-stats: value() denominators have none


def test_srm_uses_the_planned_weights() -> None:
    rows = [exposure_row("a", 1000), exposure_row("b", 2000)]
    equal = evaluate(experiment([], checks=[SRM]), rows).checks.set_index("variable_id")
    weighted = evaluate(experiment([], checks=[SRM], variant_weights={"a": 1, "b": 2}), rows)
    assert not equal.loc["p_value", "passed"]
    by_variable = weighted.checks.set_index("variable_id")
    assert by_variable.loc["test_stat", "value"] == 0 and by_variable["passed"].all()


def test_evaluate_reads_a_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "goals.csv"
    pd.DataFrame(readme_rows()).to_csv(path, index=False)
    from_file = evaluate(experiment([CTR]), path).metrics
    pd.testing.assert_frame_equal(from_file, evaluate(experiment([CTR]), readme_rows()).metrics)
