"""Quantile metrics over REST: ``/evaluate`` answers them from metric rows, labelled, with the
quantile the SQL computed; goal rows are a 422 naming the metric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from expsql.models import validate_experiment
from expsql.testing.reference import metric_rows

EXPOSURES = "count(user.global.exposure)"
REVENUE = "value(user.unit.conversion)"
BODY: dict[str, Any] = {
    "id": "checkout-redesign",
    "control_variant": "a",
    "unit_type": "user",
    "variants": ["a", "b", "c"],
    "date_from": "2026-11-02",
    "date_to": "2026-11-10",
    "metrics": [
        {"id": 1, "name": "Revenue", "nominator": REVENUE, "denominator": EXPOSURES},
        {"id": 2, "name": "revenue per buyer", "nominator": REVENUE, "quantile": 0.5, "ignore_zeros": True},
        {"id": 3, "name": "order value", "nominator": REVENUE, "quantile": 0.9, "quantile_of": "event"},
    ],
    "checks": [{"id": 1, "name": "SRM", "denominator": EXPOSURES}],
}


@pytest.fixture(scope="module")
def expected(demo_database: Path) -> dict[tuple[str, str], float]:
    """The sample quantile per quantile metric and variant, from numpy over the demo table."""
    with duckdb.connect(str(demo_database), read_only=True) as connection:
        events = connection.execute("SELECT * FROM events").df()
    rows = metric_rows(events, validate_experiment(BODY))
    return {(r.metric_id, r.exp_variant_id): r.quantile_hat for r in rows.itertuples() if r.metric_id in "23"}


def test_evaluate_answers_quantile_metrics_labelled(client: TestClient, expected: dict) -> None:
    answer = client.post("/evaluate", json=BODY)
    assert answer.status_code == 200, answer.text
    metrics = {m["id"]: m for m in answer.json()["metrics"]}
    assert metrics[2]["name"] == "p50 revenue per buyer"
    assert metrics[3]["name"] == "p90 order value, per event"
    for (metric_id, variant), estimate in expected.items():
        stat = next(s for s in metrics[int(metric_id)]["stats"] if s["exp_variant_id"] == variant)
        assert stat["mean"] == pytest.approx(estimate, rel=1e-9)


def test_asking_for_goal_rows_is_a_422_naming_the_quantile_metric(client: TestClient) -> None:
    answer = client.post("/evaluate", json=BODY | {"rows": "goals"})
    assert answer.status_code == 422
    assert "quantile metric" in answer.json()["detail"] and "Use metric rows" in answer.json()["detail"]
