"""ep-stats' goal-name metrics and checks (``SimpleMetric``, ``SimpleSrmCheck``) in an Experiment."""

from __future__ import annotations

from typing import Any

import pytest

from expsql import ExperimentError
from expsql.models import Experiment, validate_experiment


def body(*metrics: dict[str, Any], checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": "x",
        "control_variant": "a",
        "unit_type": "guest",
        "metrics": list(metrics),
        "checks": checks or [],
    }


def test_numerator_and_denominator_goal_names_become_value_of_global_goals() -> None:
    metric = {
        "id": 1,
        "name": "Booking rate",
        "numerator": "bookings",
        "denominator": "views",
        "minimum_effect": 0.1,
    }
    experiment = Experiment.model_validate(
        body(metric, checks=[{"id": 1, "name": "SRM", "denominator": "views"}])
    )
    (expanded,) = experiment.metrics
    assert expanded.nominator == "value(guest.global.bookings)"
    assert expanded.denominator == "value(guest.global.views)"
    assert expanded.minimum_effect == 0.1
    assert experiment.checks[0].denominator == "value(guest.global.views)"


def test_expressions_are_left_alone() -> None:
    metric = {
        "id": 1,
        "name": "m",
        "nominator": "count(guest.unit.click)",
        "denominator": "count(guest.global.exposure)",
    }
    check = {"id": 1, "name": "SRM", "denominator": "count(guest.global.exposure)"}
    experiment = Experiment.model_validate(body(metric, checks=[check]))
    assert experiment.metrics[0].nominator == metric["nominator"]
    assert experiment.checks[0].denominator == check["denominator"]


def test_a_metric_unit_type_overrides_the_experiments() -> None:
    metric = {"id": 1, "name": "m", "numerator": "bookings", "denominator": "views", "unit_type": "device"}
    assert Experiment.model_validate(body(metric)).metrics[0].nominator == "value(device.global.bookings)"


BAD_GOAL_NAMES: list[tuple[dict[str, Any], str]] = [
    ({"numerator": "book-ings", "denominator": "views"}, r"metric 7 numerator: 'book-ings' is not a goal"),
    (
        {"numerator": "bookings", "denominator": "value(guest.global.views)"},
        r"metric 7 denominator: .* is not a goal name",
    ),
    ({"numerator": 3.5, "denominator": "views"}, r"metric 7 numerator: 3.5 is not a goal name"),
    ({"numerator": "bookings"}, r"metric 7: a goal-name metric needs a denominator goal name"),
    (
        {"numerator": "bookings", "nominator": "value(guest.unit.b)", "denominator": "views"},
        r"either numerator",
    ),
    ({"numerator": "bookings", "denominator": "views", "unit_type": "1x"}, r"unit_type '1x' must be a name"),
]


@pytest.mark.parametrize(("metric", "message"), BAD_GOAL_NAMES)
def test_bad_goal_names_are_experiment_errors(metric: dict[str, Any], message: str) -> None:
    with pytest.raises(ExperimentError, match=message):
        validate_experiment(body({"id": 7, "name": "m"} | metric))
