"""The server's metric catalog: names in /evaluate and /compile bodies, GET /catalog/metrics and
/catalog/checks, and /metrics still the Prometheus endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from expsql.catalog import load_catalog
from expsql.config import load_config
from expsql.demo import demo_catalog
from expsql.server import ConnectorDaoFactory, DemoDaoFactory, create_app
from expsql.server.schemas import DEMO_BODY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def close(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its floats rounded to 9 significant digits."""
    return {key: float(f"{value:.9g}") if isinstance(value, float) else value for key, value in row.items()}


def by_name(*metrics: Any, **changes: Any) -> dict[str, Any]:
    """The demo body with ``metrics`` named from the demo catalog and its check by name."""
    return DEMO_BODY | {"metrics": list(metrics), "checks": ["srm"]} | changes


@pytest.fixture
def plain_client(demo_database: Path) -> Iterator[TestClient]:
    """A server on a DuckDB warehouse (not the demo factory) without a catalog."""
    factory = ConnectorDaoFactory("duckdb", str(demo_database), {"read_only": True})
    with TestClient(create_app(factory)) as test_client:
        yield test_client


def test_evaluate_by_name_answers_as_the_same_metrics_inline(client: TestClient) -> None:
    named = client.post("/evaluate", json=by_name("conversion_rate", "revenue_per_user_p1", "buy_button_ctr"))
    inline = client.post("/evaluate", json=DEMO_BODY)
    assert named.status_code == 200, named.text
    # The catalog's ids are the demo experiment's (1, 3, 4), the body's are 1, 2, 3: all else is equal.
    assert [m["id"] for m in named.json()["metrics"]] == [1, 3, 4]
    for key in ("checks", "exposure"):
        assert named.json()[key] == inline.json()[key]
    for by_name_stats, inline_stats in zip(named.json()["metrics"], inline.json()["metrics"], strict=True):
        # DuckDB sums floats in parallel: the last digits may differ between two runs of one query.
        assert [close(row) for row in by_name_stats["stats"]] == [close(row) for row in inline_stats["stats"]]


def test_evaluate_takes_an_override_beside_inline_metrics(client: TestClient) -> None:
    inline = {
        "id": 9,
        "name": "Views",
        "nominator": "count(user.unit.view)",
        "denominator": "count(user.global.exposure)",
    }
    body = by_name({"metric": "conversion_rate", "id": 7, "name": "Conversion"}, inline)
    answer = client.post("/evaluate", json=body)
    assert answer.status_code == 200, answer.text
    assert [(m["id"], m["name"]) for m in answer.json()["metrics"]] == [(7, "Conversion"), (9, "Views")]


def test_compile_by_name_is_the_sql_of_the_same_metrics_inline(client: TestClient) -> None:
    named = client.post(
        "/compile", json=by_name("conversion_rate", "revenue_per_user_p1", "buy_button_ctr", dialect="duckdb")
    )
    inline = client.post("/compile", json=DEMO_BODY | {"dialect": "duckdb"})
    assert named.status_code == 200, named.text
    assert named.json()["sql"] == inline.json()["sql"]


def test_an_unknown_name_is_a_422_naming_the_closest(client: TestClient) -> None:
    answer = client.post("/evaluate", json=by_name("conversion_rate", "conversion_rte"))
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "body: metrics.1: no metric 'conversion_rte' in the catalog expsql.demo "
        "(did you mean 'conversion_rate'?)",
        "error": "unknown_catalog_name",
        "name": "conversion_rte",
        "closest": ["conversion_rate"],
    }


def test_an_overridden_expression_is_a_422(client: TestClient) -> None:
    answer = client.post(
        "/compile", json=by_name({"metric": "conversion_rate", "nominator": "count(user.unit.view)"})
    )
    assert answer.status_code == 422
    assert "cannot change its nominator" in answer.json()["detail"]


def test_a_name_on_a_server_without_a_catalog_is_a_422_saying_so(plain_client: TestClient) -> None:
    answer = plain_client.post("/evaluate", json=by_name("conversion_rate"))
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "metrics.0 names the catalog metric 'conversion_rate' (and 1 more), but this server has no metric "
        "catalog ([catalog] metrics in its expsql.toml): send the metrics inline"
    )
    assert plain_client.post("/evaluate", json=DEMO_BODY).status_code == 200


def test_catalog_metrics_lists_the_catalog(client: TestClient) -> None:
    answer = client.get("/catalog/metrics")
    assert answer.status_code == 200
    assert answer.json() == [entry.to_dict() for entry in demo_catalog().metrics.values()]
    checks = client.get("/catalog/checks").json()
    assert [(check["name"], check["type"], check["goals"]) for check in checks] == [
        ("srm", "SRM", ["user.global.exposure"])
    ]


def test_catalog_listing_on_a_server_without_a_catalog_is_a_404(plain_client: TestClient) -> None:
    answer = plain_client.get("/catalog/metrics")
    assert answer.status_code == 404
    assert answer.json()["error"] == "no_catalog"


def test_metrics_stays_the_prometheus_endpoint(client: TestClient) -> None:
    client.get("/catalog/metrics")
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert 'endpoint="/catalog/metrics"' in answer.text


def test_the_catalog_of_expsql_toml_is_served(tmp_path: Path, demo_database: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(
        "metrics:\n  views:\n    nominator: count(user.unit.view)\n"
        "    denominator: count(user.global.exposure)\n"
    )
    (tmp_path / "expsql.toml").write_text('[catalog]\nmetrics = "catalog.yaml"\n')
    app = create_app(DemoDaoFactory(demo_database), config=load_config(tmp_path / "expsql.toml"))
    with TestClient(app) as configured:
        assert [entry["name"] for entry in configured.get("/catalog/metrics").json()] == ["views"]
        answer = configured.post("/evaluate", json=DEMO_BODY | {"metrics": ["views"]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["metrics"][0]["id"] == "views"


def test_a_catalog_given_in_python_is_served(demo_database: Path) -> None:
    factory = ConnectorDaoFactory("duckdb", str(demo_database), {"read_only": True})
    with TestClient(create_app(factory, catalog=load_catalog(EXAMPLES / "metrics.yaml"))) as served:
        assert len(served.get("/catalog/metrics").json()) == 5


def test_a_body_that_is_no_json_is_answered_as_before(client: TestClient) -> None:
    assert (
        client.post("/evaluate", content=b"{", headers={"content-type": "application/json"}).status_code
        == 422
    )
    nested = b"[" * 100_000 + b"]" * 100_000
    answer = client.post("/evaluate", content=nested, headers={"content-type": "application/json"})
    assert answer.status_code == 400
