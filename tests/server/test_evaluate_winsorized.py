"""Winsorized metrics over REST: ``/evaluate`` caps them (ep-stats' REST silently does not).

The demo DuckDB factory serves the data; the expected caps are computed in pandas from the same
table (:func:`expsql.testing.reference.metric_rows`, which clips with ``Series.quantile``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from expsql.config import ServerSettings
from expsql.models import validate_experiment
from expsql.server.app import create_app
from expsql.server.factory import DemoDaoFactory
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
        {
            "id": 1,
            "name": "Revenue, p99 cap",
            "nominator": REVENUE,
            "denominator": EXPOSURES,
            "outlier_upper_percentile": 1,
        },
        {
            "id": 2,
            "name": "Net revenue, both sides",
            "nominator": "value(user.unit.conversion) - value(user.unit.refund)",
            "denominator": EXPOSURES,
            "outlier_upper_percentile": 0.5,
            "outlier_lower_percentile": 0.5,
        },
        {"id": 3, "name": "Revenue", "nominator": REVENUE, "denominator": EXPOSURES},
    ],
    "checks": [{"id": 1, "name": "SRM", "denominator": EXPOSURES}],
}


def _stats(result: dict[str, Any]) -> dict[tuple[int, str], dict[str, Any]]:
    return {(m["id"], s["exp_variant_id"]): s for m in result["metrics"] for s in m["stats"]}


@pytest.fixture(scope="module")
def expected(demo_database: Path) -> dict[tuple[int, str], tuple[float, float]]:
    """(Σx, Σx / Σy) per metric and variant, from pandas over the demo table."""
    with duckdb.connect(str(demo_database), read_only=True) as connection:
        events = connection.execute("SELECT * FROM events").df()
    rows = metric_rows(events, validate_experiment(BODY))
    return {
        (int(r.metric_id), r.exp_variant_id): (r.sum_x, r.sum_x / r.sum_y)
        for r in rows.itertuples()
        if r.metric_id.isdigit()
    }


def test_evaluate_caps_the_nominators_as_pandas_does(client: TestClient, expected: dict) -> None:
    answer = client.post("/evaluate", json=BODY)
    assert answer.status_code == 200, answer.text
    stats = _stats(answer.json())
    assert set(stats) == set(expected)
    for key, (sum_x, mean) in expected.items():
        assert stats[key]["sum_value"] == pytest.approx(sum_x, rel=1e-9), key
        assert stats[key]["mean"] == pytest.approx(mean, rel=1e-9), key
    # The caps bite: the capped revenue is below the uncapped one in every variant.
    for variant in "abc":
        assert stats[1, variant]["sum_value"] < stats[3, variant]["sum_value"]


def test_server_defaulting_to_goal_rows_still_caps(demo_factory: DemoDaoFactory, expected: dict) -> None:
    with TestClient(create_app(demo_factory, settings=ServerSettings(rows="goals"))) as client:
        answer = client.post("/evaluate", json=BODY)
    assert answer.status_code == 200, answer.text
    assert _stats(answer.json())[1, "b"]["sum_value"] == pytest.approx(expected[1, "b"][0], rel=1e-9)


def test_asking_for_goal_rows_is_a_422_naming_the_metric(client: TestClient) -> None:
    answer = client.post("/evaluate", json=BODY | {"rows": "goals"})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "metrics 1 (Revenue, p99 cap), 2 (Net revenue, both sides) cap outliers" in detail
    assert "Use metric rows" in detail


def test_out_of_range_percentile_is_a_422_naming_the_metric(client: TestClient) -> None:
    body = copy.deepcopy(BODY)
    body["metrics"][1]["outlier_lower_percentile"] = 50
    answer = client.post("/evaluate", json=body)
    assert answer.status_code == 422
    assert "metric 2: outlier_lower_percentile must be at least 0 and below 50" in answer.text


def test_openapi_documents_the_percentiles(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    metric = next(
        s for name, s in schemas.items() if name.startswith("Metric") and "nominator" in s["properties"]
    )
    for side in ("upper", "lower"):
        field = metric["properties"][f"outlier_{side}_percentile"]
        assert (field["minimum"], field["exclusiveMaximum"]) == (0, 50)
        assert "metric rows" in field["description"].lower()


def test_compile_defaults_to_metric_rows_for_every_dialect(client: TestClient) -> None:
    answer = client.post("/compile", json=BODY)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["rows"] == "metrics" and not result["errors"]
    assert all("capped_metrics" in sql for sql in result["sql"].values())
    assert client.post("/compile", json=BODY | {"rows": "goals"}).status_code == 422
    assert client.post("/compile", json=BODY | {"metrics": BODY["metrics"][2:]}).json()["rows"] == "goals"
