"""Quantile metrics (:mod:`expsql.stats.quantiles`): the variances equal GrowthBook's
``QuantileStatistic`` / ``QuantileClusteredStatistic`` and the relative test its two-sided t-test
to 1e-9 given the same sufficient statistics; rows without the columns are refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from gbstats.frequentist.tests import TwoSidedTTest
from gbstats.models.statistics import QuantileClusteredStatistic, QuantileStatistic

from expsql.errors import RowsError
from expsql.stats import evaluate
from expsql.stats.quantiles import quantile_statistics
from expsql.testing.quantile_reference import empty_quantile_columns, event_quantile_row, unit_quantile_row
from tests.stats.frames import experiment, metric_row

TOLERANCE = 1e-9
UNIT_METRIC = {"id": 1, "name": "p90 revenue", "nominator": "value(user.unit.purchase)", "quantile": 0.9}
EVENT_METRIC = {
    "id": 2,
    "name": "p90 page load",
    "nominator": "value(user.unit.page_load)",
    "quantile": 0.9,
    "quantile_of": "event",
}


class _EpStatsFreedom(TwoSidedTTest):
    """gbstats' test with its Welch degrees of freedom rounded to 5 decimals and truncated, as
    ep-stats (and so expsql) reports them."""

    @property
    def dof(self) -> float:
        return float(np.trunc(np.round(super().dof, 5)))


def _units(seed: int, n: int, scale: float) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(0.0, 1.0, n) * scale


def _events(seed: int, units: int, scale: float) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    level = rng.lognormal(0.0, 0.8, units)  # each unit's own level: strong within-unit correlation
    counts = rng.poisson(4.0, units) + 1
    return [rng.lognormal(np.log(lv), 0.3, c) * scale for lv, c in zip(level, counts, strict=True)]


def _unit_statistic(row: dict[str, Any], level: float) -> QuantileStatistic:
    return QuantileStatistic(
        n=int(row["quantile_n"]),
        n_star=int(row["quantile_n"]),
        nu=level,
        quantile_hat=row["quantile_hat"],
        quantile_lower=row["quantile_lower"],
        quantile_upper=row["quantile_upper"],
    )


def _event_statistic(row: dict[str, Any], level: float) -> QuantileClusteredStatistic:
    return QuantileClusteredStatistic(
        n=int(row["quantile_n"]),
        n_star=int(row["quantile_n"]),
        nu=level,
        quantile_hat=row["quantile_hat"],
        quantile_lower=row["quantile_lower"],
        quantile_upper=row["quantile_upper"],
        main_sum=row["quantile_sum_a"],
        main_sum_squares=row["quantile_sum_a2"],
        denominator_sum=row["quantile_sum_b"],
        denominator_sum_squares=row["quantile_sum_b2"],
        main_denominator_sum_product=row["quantile_sum_ab"],
        n_clusters=int(row["quantile_units"]),
    )


def _rows(variant: str, metric_id: str, columns: dict[str, Any], n: int) -> dict[str, Any]:
    return metric_row(variant, metric_id, n, 0.0, 0.0, n, n, 0.0) | columns


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("units", [50, 300, 5000])
def test_unit_variance_equals_gbstats_quantile_statistic(level: float, units: int) -> None:
    row = unit_quantile_row(_units(units, units, 1.0), level)
    ours = quantile_statistics(np.array(level), np.array([row[c] for c in list(row)[:4]], dtype=float))
    theirs = _unit_statistic(row, level)
    assert float(ours.variance) == pytest.approx(theirs.variance, rel=TOLERANCE, abs=TOLERANCE)
    assert bool(ours.untestable) == theirs._has_zero_variance


@pytest.mark.parametrize("level", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("units", [30, 400, 3000])
def test_event_variance_equals_gbstats_quantile_clustered_statistic(level: float, units: int) -> None:
    row = event_quantile_row(_events(units, units, 1.0), level)
    values = np.array(list(row.values()), dtype=float)
    ours = quantile_statistics(np.array(level), values[:4], values[4:])
    theirs = _event_statistic(row, level)
    assert float(ours.variance) == pytest.approx(theirs.variance, rel=TOLERANCE, abs=TOLERANCE)
    assert bool(ours.untestable) == theirs._has_zero_variance


@pytest.mark.parametrize("kind", ["unit", "event"])
@pytest.mark.parametrize(("seed", "lift"), [(1, 0.0), (2, 0.08), (3, -0.05)])
def test_relative_test_equals_gbstats_two_sided_t_test(kind: str, seed: int, lift: float) -> None:
    definition = UNIT_METRIC if kind == "unit" else EVENT_METRIC
    statistics, rows = [], []
    for offset, (variant, scale) in enumerate((("a", 1.0), ("b", 1.0 + lift))):
        if kind == "unit":
            values = _units(seed * 10 + offset, 2000 + 100 * offset, scale)
            row, n = unit_quantile_row(values, 0.9), values.size
            statistics.append(_unit_statistic(row, 0.9))
        else:
            events = _events(seed * 10 + offset, 800 + 50 * offset, scale)
            row, n = event_quantile_row(events, 0.9), len(events)
            statistics.append(_event_statistic(row, 0.9))
        rows.append(_rows(variant, str(definition["id"]), row, n))
    result = evaluate(experiment([definition]), pd.DataFrame(rows), correction="none", sequential="none")
    ours = result.metrics.set_index("exp_variant_id").loc["b"]
    theirs = _EpStatsFreedom(*statistics).compute_result()
    assert ours["mean"] == statistics[1].quantile_hat
    assert ours["count"] == statistics[1].n
    assert ours["diff"] == pytest.approx(theirs.expected, abs=TOLERANCE)
    assert ours["p_value"] == pytest.approx(theirs.p_value, abs=TOLERANCE)
    assert ours["ci_lower"] == pytest.approx(theirs.ci[0], abs=TOLERANCE)
    assert ours["ci_upper"] == pytest.approx(theirs.ci[1], abs=TOLERANCE)
    assert ours["standard_error"] == pytest.approx(theirs.uplift.stddev, rel=TOLERANCE)


def test_rows_without_quantile_columns_are_refused() -> None:
    rows = [metric_row(v, "1", 10, 1.0, 1.0, 10, 10, 1.0) for v in ("a", "b")]
    with pytest.raises(RowsError, match=r"quantile metric.*quantile_n"):
        evaluate(experiment([UNIT_METRIC]), pd.DataFrame(rows))


def test_other_metrics_read_their_ratio_beside_a_quantile_metric() -> None:
    """A mean metric's row has NULL quantile columns: its result is the one without quantiles."""
    mean = {
        "id": 3,
        "name": "revenue",
        "nominator": "value(user.unit.purchase)",
        "denominator": "count(user.global.exposure)",
    }
    plain = [metric_row(v, "3", 100, 50.0 + i, 80.0, 100, 100, 50.0 + i) for i, v in enumerate("ab")]
    alone = evaluate(experiment([mean]), pd.DataFrame(plain)).metrics
    quantile_rows = [
        _rows(v, "1", unit_quantile_row(_units(i, 300, 1.0), 0.5), 300) for i, v in enumerate("ab")
    ]
    mixed = [row | empty_quantile_columns() for row in plain] + quantile_rows
    together = evaluate(experiment([mean, UNIT_METRIC | {"quantile": 0.5}]), pd.DataFrame(mixed)).metrics
    columns = ["mean", "std", "p_value", "ci_lower"]
    pd.testing.assert_frame_equal(
        together[together["metric_id"] == 3][columns].reset_index(drop=True), alone[columns]
    )


def test_too_few_observations_make_the_quantile_untestable() -> None:
    rows = [_rows(v, "1", unit_quantile_row(_units(i, 20, 1.0), 0.99), 20) for i, v in enumerate("ab")]
    with pytest.warns(UserWarning, match="too few observations for a quantile"):
        result = evaluate(experiment([UNIT_METRIC | {"quantile": 0.99}]), pd.DataFrame(rows))
    assert np.isnan(result.metrics["p_value"].iloc[1])


def test_a_breakdown_reads_the_overall_rows_and_merged_segments_have_no_quantile() -> None:
    """Three segments and each variant's overall row (``@overall:1``): the overall result is the
    overall row's quantile, the top segment (ties by name) its own, ``(other)`` (two merged) none."""
    rows = []
    values = {segment: _units(i, 3000, 1.0 + 0.1 * i) for i, segment in enumerate(("web", "ios", "android"))}
    for variant in "ab":
        for segment, units in values.items():
            rows.append(
                _rows(variant, "1", unit_quantile_row(units, 0.5), units.size) | {"platform": segment}
            )
            rows.append(metric_row(variant, "@exposure", units.size, 0, 0, 0, 0, 0) | {"platform": segment})
        whole = np.concatenate(list(values.values()))
        overall = metric_row(variant, "@overall:1", 0, 0, 0, 0, 0, 0) | unit_quantile_row(whole, 0.5)
        rows.append(overall | {"platform": None})
    frame = pd.DataFrame(rows)
    definition = experiment([UNIT_METRIC | {"quantile": 0.5}], breakdown=["platform"], breakdown_top=1)
    result = evaluate(definition, frame)
    overall_mean = result.metrics.set_index("exp_variant_id").loc["a", "mean"]
    assert overall_mean == unit_quantile_row(np.concatenate(list(values.values())), 0.5)["quantile_hat"]
    segments = result.breakdowns.metrics.set_index(["segment", "exp_variant_id"])["mean"]
    assert segments["android", "a"] == unit_quantile_row(values["android"], 0.5)["quantile_hat"]
    assert np.isnan(segments["(other)", "a"])
    assert "(null)" not in {s for s, _ in segments.index}
    assert any("no quantile in the rows" in w for w in result.breakdowns.warnings)


def test_unit_quantile_rows_need_no_cluster_columns() -> None:
    """An export with the quantile columns alone serves unit quantiles (not event quantiles)."""
    rows = [_rows(v, "1", unit_quantile_row(_units(i, 500, 1.0), 0.5), 500) for i, v in enumerate("ab")]
    frame = pd.DataFrame(rows).drop(
        columns=[
            "quantile_units",
            "quantile_sum_a",
            "quantile_sum_a2",
            "quantile_sum_b",
            "quantile_sum_b2",
            "quantile_sum_ab",
        ]
    )
    result = evaluate(experiment([UNIT_METRIC | {"quantile": 0.5}]), frame)
    assert np.isfinite(result.metrics["p_value"].iloc[1])
    event = EVENT_METRIC | {"id": 1}
    with pytest.raises(RowsError, match="quantile_units"):
        evaluate(experiment([event]), frame)
