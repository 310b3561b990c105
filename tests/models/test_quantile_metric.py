"""Quantile metric fields (:class:`expsql.models.Metric`): what is refused, the label, the kinds."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from expsql.errors import MetricRowsRequired, TimelineError
from expsql.grammar.ast import Number
from expsql.models import Experiment, Metric
from expsql.timeline_days import check_timeline

VALUE = "value(user.unit.page_load)"


def _metric(**fields: Any) -> Metric:
    return Metric.model_validate({"id": 7, "name": "page load", "nominator": VALUE} | fields)


def test_a_quantile_metric_has_no_denominator_and_a_label() -> None:
    unit, event = _metric(quantile=0.5), _metric(quantile=0.999, quantile_of="event")
    assert unit.denominator is None and unit.denominator_expr == Number(1)
    assert (unit.label, event.label) == ("p50 page load", "p99.9 page load, per event")
    assert unit.is_quantile and not unit.event_quantile and event.event_quantile
    assert _metric(denominator="count(user.global.exposure)").label == "page load"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantile": 0.9, "denominator": "count(user.global.exposure)"}, "takes no denominator"),
        ({"quantile": 1.0}, "between 0 and 1"),
        ({"quantile": 0.0}, "between 0 and 1"),
        ({"quantile": float("nan")}, "between 0 and 1"),
        ({"quantile": 0.9, "quantile_of": "event", "nominator": f"{VALUE} + 1"}, "one goal term's values"),
        ({"quantile": 0.9, "quantile_of": "event", "nominator": "count(user.unit.page_load)"}, "one goal"),
        ({"quantile": 0.9, "outlier_upper_percentile": 1}, "cannot be winsorized"),
        ({"quantile": 0.9, "cuped": True}, "CUPED does not apply"),
        ({"quantile_of": "event", "denominator": "count(user.global.exposure)"}, "quantile metric only"),
        ({"ignore_zeros": True, "denominator": "count(user.global.exposure)"}, "quantile metric only"),
        ({}, "a denominator is required"),
        ({"quantile": 0.9, "quantile_of": "session"}, "quantile_of"),
    ],
)
def test_what_a_quantile_metric_refuses(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _metric(**fields)


def _experiment(**fields: Any) -> Experiment:
    return Experiment.model_validate(
        {
            "id": "e",
            "control_variant": "a",
            "unit_type": "user",
            "metrics": [{"id": 7, "name": "p", "nominator": VALUE, "quantile": 0.5}],
        }
        | fields
    )


def test_quantile_metrics_need_metric_rows_and_no_cuped() -> None:
    experiment = _experiment(cuped_lookback_days=7)
    assert experiment.needs_metric_rows() and experiment.cuped_metrics() == []
    with pytest.raises(MetricRowsRequired, match="quantile metric"):
        experiment.require_metric_rows("compile goal rows")
    with pytest.raises(MetricRowsRequired, match="quantile metric"):
        experiment.require_metric_rows("compile unit rows", per_unit=True)


def test_the_timeline_refuses_quantile_metrics_with_the_reason() -> None:
    experiment = _experiment(timeline="daily", date_from="2026-01-01", date_to="2026-01-05")
    with pytest.raises(TimelineError, match="ranked again"):
        check_timeline(experiment, "metrics")
