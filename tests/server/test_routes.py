"""Every endpoint through FastAPI's TestClient: health, dialects, docs, compile, sample size, evaluate."""

from __future__ import annotations

import copy
import json

import pytest
import sqlglot
from fastapi.testclient import TestClient

from expsql import dialects
from tests.test_models import EP_STATS_BODY

EXPOSURES = "count(user.global.exposure)"
SMALL = {
    "id": "checkout-redesign",
    "control_variant": "a",
    "unit_type": "user",
    "variants": ["a", "b", "c"],
    "metrics": [
        {
            "id": 1,
            "name": "Conversion rate",
            "nominator": "unique(user.unit.conversion)",
            "denominator": EXPOSURES,
        },
        {
            "id": 2,
            "name": "Revenue per user, p_1",
            "nominator": "value(user.unit.conversion(product=p_1))",
            "denominator": EXPOSURES,
        },
    ],
    "checks": [{"id": 1, "name": "SRM", "denominator": EXPOSURES}],
}


def body(**changes: object) -> dict:
    return copy.deepcopy(SMALL) | changes


def test_health_names_the_served_dialects(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"message": "expsql is ready", "version": "0.1.0", "dialects": ["duckdb"]}


def test_dialects_lists_the_registry_and_what_is_served(client: TestClient) -> None:
    listed = {entry["name"]: entry for entry in client.get("/dialects").json()}
    assert sorted(listed) == dialects.available()
    assert listed["duckdb"] | {"description": ""} == {
        "name": "duckdb",
        "description": "",
        "origin": "built-in",
        "connector": True,
        "installed": True,
        "served": True,
        "default": True,
    }
    assert listed["postgres"]["served"] is False and listed["postgres"]["connector"] is True


def test_docs_and_openapi_describe_every_endpoint(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/health", "/dialects", "/evaluate", "/compile", "/sample-size-calculation"}
    assert set(paths["/evaluate"]["post"]["responses"]) >= {"200", "422", "503", "504"}


def test_compile_for_one_dialect_returns_sql_that_parses_back(client: TestClient) -> None:
    answer = client.post("/compile", json=body(dialect="postgres", rows="metrics"))
    assert answer.status_code == 200
    result = answer.json()
    assert result["experiment_id"] == "checkout-redesign" and result["rows"] == "metrics"
    assert list(result["sql"]) == ["postgres"] and result["errors"] == {}
    assert len(sqlglot.parse(result["sql"]["postgres"], read="postgres")) == 1


def test_compile_without_a_dialect_covers_every_registered_one(client: TestClient) -> None:
    result = client.post("/compile", json=body()).json()
    assert sorted(result["sql"]) + sorted(result["errors"]) == sorted(dialects.available())
    assert result["rows"] == "goals"
    assert "'checkout-redesign'" in result["sql"]["duckdb"]


def test_compile_reads_the_source_mapping(client: TestClient) -> None:
    source = {"table": "analytics.attributed_events", "columns": {"unit_id": "visitor_id"}}
    sql = client.post("/compile", json=body(dialect="duckdb", source=source)).json()["sql"]["duckdb"]
    assert '"analytics"."attributed_events"' in sql and '"visitor_id"' in sql


def test_malformed_expression_is_a_422_with_position_and_caret(client: TestClient) -> None:
    broken = body()
    broken["metrics"][0]["nominator"] = "unique(user.unit.conversion) foo"
    for path in ("/compile", "/evaluate"):
        answer = client.post(path, json=broken)
        assert answer.status_code == 422
        detail = answer.json()
        assert detail["error"] == "expression"
        assert detail["expression"]["line"] == 1 and detail["expression"]["column"] == 30
        assert detail["expression"]["context"] == "metric 1 nominator"
        assert "  unique(user.unit.conversion) foo\n" in detail["detail"]
        assert detail["detail"].splitlines()[2] == " " * 31 + "^^^"


def test_unknown_dialect_is_a_422_listing_the_available_ones(client: TestClient) -> None:
    for path in ("/compile", "/evaluate"):
        answer = client.post(path, json=body(dialect="duckdbb"))
        assert answer.status_code == 422
        assert answer.json()["available"] == dialects.available()
        assert "Did you mean 'duckdb'?" in answer.json()["detail"]


def test_a_dialect_the_server_does_not_serve_is_a_422(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body(dialect="postgres"))
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "this server evaluates on duckdb, not on 'postgres'",
        "error": "dialect_not_served",
        "available": ["duckdb"],
    }


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"control_variant": None}, ["body", "control_variant"]),
        ({"rows": "cubes"}, ["body", "rows"]),
        (
            {"checks": [{"id": 1, "name": "x", "type": "Nope", "denominator": EXPOSURES}]},
            ["body", "checks", 0, "type"],
        ),
    ],
)
def test_invalid_bodies_are_422_with_plain_json_details(
    client: TestClient, change: dict, location: list
) -> None:
    answer = client.post("/evaluate", json=body(**change))
    assert answer.status_code == 422
    assert answer.json()["error"] == "validation"
    assert location in [problem["loc"] for problem in answer.json()["detail"]]


def test_inconsistent_experiment_is_a_422(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body(date_from="2026-11-10", date_to="2026-11-01"))
    assert answer.status_code == 422
    assert "date_to must not be before date_from" in json.dumps(answer.json())


def test_ep_stats_body_is_accepted_by_compile(client: TestClient) -> None:
    answer = client.post("/compile", json=EP_STATS_BODY | {"dialect": "bigquery"})
    assert answer.status_code == 200
    assert "test_unit_type" in answer.json()["sql"]["bigquery"]
