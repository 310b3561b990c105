"""Outlier winsorization fields of a metric: ep-stats' names, its range, errors naming the metric."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from expsql import ExperimentError
from expsql.errors import MetricRowsRequired
from expsql.models import Metric, validate_experiment

REVENUE = {
    "id": "rev",
    "name": "Revenue",
    "nominator": "value(u.unit.buy)",
    "denominator": "count(u.global.exposure)",
}


def _experiment(**metric: Any) -> dict[str, Any]:
    return {"id": "e", "control_variant": "a", "unit_type": "u", "metrics": [REVENUE | metric]}


@pytest.mark.parametrize(
    ("upper", "lower", "quantiles"),
    [
        (None, None, (None, None)),
        (0, 0, (None, None)),
        (1, None, (None, Decimal("0.99"))),
        (None, 2.5, (Decimal("0.025"), None)),
        (7, 0.5, (Decimal("0.005"), Decimal("0.93"))),
        (49.999, 0, (None, Decimal("0.50001"))),
    ],
)
def test_quantiles_follow_ep_stats(upper: float | None, lower: float | None, quantiles: tuple) -> None:
    metric = Metric.model_validate(
        REVENUE | {"outlier_upper_percentile": upper, "outlier_lower_percentile": lower}
    )
    assert metric.winsorizing_quantiles == quantiles
    assert metric.winsorized == (quantiles != (None, None))


@pytest.mark.parametrize("side", ["upper", "lower"])
@pytest.mark.parametrize("value", [50, 50.0, 75, -0.1, float("nan"), float("inf")])
def test_out_of_range_percentile_names_the_metric_and_field(side: str, value: float) -> None:
    with pytest.raises(
        ExperimentError, match=rf"metric rev: outlier_{side}_percentile must be at least 0 and below 50"
    ):
        validate_experiment(_experiment(**{f"outlier_{side}_percentile": value}))


def test_percentile_must_be_a_number() -> None:
    with pytest.raises(ExperimentError, match="outlier_upper_percentile"):
        validate_experiment(_experiment(outlier_upper_percentile="high"))


def test_require_metric_rows_names_every_winsorized_metric() -> None:
    data = _experiment(outlier_upper_percentile=1)
    data["metrics"].append(REVENUE | {"id": "plain", "name": "Plain"})
    data["metrics"].append(REVENUE | {"id": "low", "name": "Low", "outlier_lower_percentile": 5})
    experiment = validate_experiment(data)
    assert [m.id for m in experiment.winsorized_metrics()] == ["rev", "low"]
    with pytest.raises(
        MetricRowsRequired, match=r"metrics rev \(Revenue\), low \(Low\) cap outliers.*Use metric rows"
    ):
        experiment.require_metric_rows("compile goal rows")
    validate_experiment(_experiment(outlier_upper_percentile=0)).require_metric_rows("compile goal rows")
