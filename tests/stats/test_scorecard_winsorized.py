"""Evaluating a winsorized experiment: goal rows are refused, metric rows carry the capped sums."""

from __future__ import annotations

import pytest

from expsql.errors import MetricRowsRequired
from expsql.models import validate_experiment
from expsql.stats import evaluate
from expsql.testing.events import generate_events
from expsql.testing.reference import goal_rows, metric_rows

DEFINITION = {
    "id": "exp-1",
    "control_variant": "a",
    "unit_type": "user",
    "metrics": [
        {
            "id": 1,
            "name": "revenue",
            "nominator": "value(user.unit.conversion)",
            "denominator": "count(user.global.exposure)",
        }
    ],
}


def test_goal_rows_cannot_evaluate_a_winsorized_metric() -> None:
    events = generate_events(seed=2)
    plain = validate_experiment(DEFINITION)
    capped = validate_experiment(
        DEFINITION | {"metrics": [DEFINITION["metrics"][0] | {"outlier_upper_percentile": 5}]}
    )
    rows = goal_rows(events, plain)
    assert evaluate(plain, rows).metrics["mean"].notna().all()
    with pytest.raises(
        MetricRowsRequired, match=r"cannot evaluate goal rows .* metric 1 \(revenue\) caps outliers"
    ):
        evaluate(capped, rows)
    # Metric rows: the capped sums are the statistics' input, nothing else changes.
    capped_rows = metric_rows(events, capped)
    means = evaluate(capped, capped_rows).metrics.set_index("exp_variant_id")["mean"]
    sums = capped_rows[capped_rows["metric_id"] == "1"].set_index("exp_variant_id")
    assert means.to_dict() == pytest.approx((sums["sum_x"] / sums["sum_y"]).to_dict(), rel=1e-12)
    assert (
        means < evaluate(plain, metric_rows(events, plain)).metrics.set_index("exp_variant_id")["mean"]
    ).all()
