"""Every endpoint through FastAPI's TestClient: health, dialects, docs, compile, sample size, evaluate."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import sqlglot
from fastapi.testclient import TestClient

from expsql import dialects
from tests.models.test_experiment import EP_STATS_BODY

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
        "percentile": "exact",
        "cancel": True,
        "max_query_bytes": None,
        "incremental": True,
    }
    assert listed["postgres"]["served"] is False and listed["postgres"]["connector"] is True
    assert listed["trino"]["percentile"] == "approximate"
    assert listed["postgres"]["cancel"] is True and listed["spark"]["cancel"] is True
    assert listed["bigquery"]["cancel"] is False  # its Dao has no cancel()
    assert listed["bigquery"]["max_query_bytes"] == 1024 * 1024
    assert listed["postgres"]["incremental"] is True and listed["trino"]["incremental"] is False


def test_docs_and_openapi_describe_every_endpoint(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/health",
        "/dialects",
        "/evaluate",
        "/compile",
        "/sample-size-calculation",
        "/catalog/metrics",
        "/catalog/checks",
    }
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


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"n_variants": 2, "minimum_effect": 0.1, "mean": 0.2, "std": 1.2}, 56512),
        ({"n_variants": 2, "minimum_effect": 0.05, "mean": 0.4, "std": None}, 9489),
        ({"n_variants": 3, "minimum_effect": 0.05, "mean": 0.4}, 11492),
        ({"n_variants": 2, "minimum_effect": 0.1, "mean": 0, "std": 0}, None),  # NaN in ep-stats
        ({"n_variants": 2, "minimum_effect": 0.1, "mean": 0, "std": 1}, None),  # inf in ep-stats
    ],
)
def test_sample_size_matches_ep_stats_expectations(client: TestClient, request_body: dict, expected) -> None:
    answer = client.post("/sample-size-calculation", json=request_body)
    assert answer.status_code == 200
    assert answer.json() == {"sample_size_per_variant": expected}


def test_sample_size_takes_cupeds_variance_reduction_or_rho(client: TestClient) -> None:
    from expsql.stats import sample_size

    body = {"n_variants": 2, "minimum_effect": 0.05, "mean": 0.4, "std": 1.1}
    plain = client.post("/sample-size-calculation", json=body).json()["sample_size_per_variant"]
    by_rho = client.post("/sample-size-calculation", json=body | {"rho": 0.7}).json()
    by_reduction = client.post("/sample-size-calculation", json=body | {"variance_reduction": 0.49}).json()
    assert by_rho == by_reduction == {"sample_size_per_variant": sample_size(2, 0.05, 0.4, 1.1, rho=0.7)}
    assert by_rho["sample_size_per_variant"] < 0.52 * plain
    both = client.post("/sample-size-calculation", json=body | {"rho": 0.7, "variance_reduction": 0.49})
    assert both.status_code == 422 and "not both" in both.text
    assert client.post("/sample-size-calculation", json=body | {"variance_reduction": 1}).status_code == 422


def test_sample_size_errors_are_422(client: TestClient) -> None:
    bernoulli_out_of_range = {"n_variants": 2, "minimum_effect": 0.1, "mean": 1.5, "std": None}
    assert client.post("/sample-size-calculation", json=bernoulli_out_of_range).status_code == 422
    one_variant = {"n_variants": 1, "minimum_effect": 0.1, "mean": 0.5}
    assert client.post("/sample-size-calculation", json=one_variant).status_code == 422


def test_evaluate_answers_in_ep_stats_result_shape(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body())
    assert answer.status_code == 200
    result = answer.json()
    assert result["id"] == "checkout-redesign"
    assert [(m["id"], m["name"]) for m in result["metrics"]] == [
        (1, "Conversion rate"),
        (2, "Revenue per user, p_1"),
    ]
    stat_fields = {
        "exp_variant_id", "diff", "mean", "std", "sum_value", "p_value", "confidence_interval",
        "confidence_level", "sample_size", "required_sample_size", "power", "false_positive_risk",
        "cuped", "variance_reduction",  # expsql's additions (CUPED)
        "ci_lower", "ci_upper", "chance_to_win", "risk_control", "risk_treatment",  # (readouts)
    }  # fmt: skip
    for metric in result["metrics"]:
        assert [s["exp_variant_id"] for s in metric["stats"]] == ["a", "b", "c"]
        assert all(set(stat) == stat_fields for stat in metric["stats"])
        assert not any(stat["cuped"] or stat["variance_reduction"] for stat in metric["stats"])
        assert all(stat["chance_to_win"] is None for stat in metric["stats"])  # frequentist
        assert metric["stats"][0]["diff"] == 0
    srm = result["checks"][0]
    assert srm["id"] == 1 and {s["variable_id"] for s in srm["stats"]} >= {"p_value", "test_stat"}
    assert result["exposure"]["unit_type"] == "user"
    assert [s["exp_variant_id"] for s in result["exposure"]["stats"]] == ["a", "b", "c"]
    assert all(s["count"] > 0 for s in result["exposure"]["stats"])


def test_goal_rows_and_metric_rows_give_the_same_means_over_http(client: TestClient) -> None:
    means = {}
    for rows in ("goals", "metrics"):
        result = client.post("/evaluate", json=body(rows=rows)).json()
        means[rows] = [stat["mean"] for metric in result["metrics"] for stat in metric["stats"]]
    assert means["goals"] == pytest.approx(means["metrics"], rel=1e-9)


def test_the_ep_stats_test_body_gets_an_ep_stats_answer(client: TestClient) -> None:
    # Its unit type has no events in the demo database: every statistic is null, none is NaN.
    answer = client.post("/evaluate", json=EP_STATS_BODY)
    assert answer.status_code == 200
    result = answer.json()
    assert [m["id"] for m in result["metrics"]] == [1, 2]
    assert result["exposure"] == {
        "unit_type": "test_unit_type",
        "stats": [{"exp_variant_id": v, "count": 0} for v in ("a", "b", "c")],
    }
    assert result["metrics"][0]["stats"][1]["mean"] is None
    assert "NaN" not in answer.text


def test_confidence_level_field_is_used(client: TestClient) -> None:
    levels = [
        client.post("/evaluate", json=body(confidence_level=level)).json()["metrics"][0]["stats"][1][
            "confidence_level"
        ]
        for level in (0.9, 0.99)
    ]
    assert levels == [pytest.approx(0.9), pytest.approx(0.99)]


def test_a_window_longer_than_the_servers_limit_is_a_422(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body(date_from="2020-01-01", date_to="2026-01-01"))
    assert answer.status_code == 422
    assert answer.json()["detail"] == "the date window spans 2193 days; this server evaluates at most 400"


def test_filters_restrict_an_evaluation_over_http(client: TestClient) -> None:
    plain = client.post("/evaluate", json=body(rows="metrics")).json()
    revenue = {"scope": "goal", "dimension": "product", "value": ["p_1"], "goal": "conversion"}
    viewers = {"scope": "trigger", "goal": "view", "dimension": "element", "value": ["button-buy"]}
    by_goal = client.post("/evaluate", json=body(rows="metrics", filters=[revenue])).json()
    by_unit = client.post("/evaluate", json=body(rows="goals", filters=[viewers])).json()

    def exposures(result: dict) -> list[int]:
        return [stat["count"] for stat in result["exposure"]["stats"]]

    def means(result: dict, metric: int) -> list[float]:
        return [stat["mean"] for stat in result["metrics"][metric]["stats"]]

    # A goal filter leaves the exposures; conversions of other products no longer count.
    assert exposures(by_goal) == exposures(plain)
    assert means(by_goal, 0) < means(plain, 0)
    assert means(by_goal, 1) == pytest.approx(means(plain, 1), rel=1e-12)
    # A trigger filter keeps the units that viewed the buy button: fewer, and others than before.
    assert all(0 < f < p for f, p in zip(exposures(by_unit), exposures(plain), strict=True))
    assert means(by_unit, 0) != pytest.approx(means(plain, 0), rel=1e-6)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([{"scope": "trigger"}], "a trigger filter needs 'goal'"),
        ([{"scope": "goal", "dimension": "pro duct", "value": ["p_1"]}], "is not a dimension name"),
    ],
)
def test_invalid_filters_are_422(client: TestClient, filters: list, message: str) -> None:
    answer = client.post("/compile", json=body(filters=filters))
    assert answer.status_code == 422
    assert message in json.dumps(answer.json())


def test_openapi_documents_the_filters(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["Filter"]["properties"]["scope"]["enum"] == ["exposure", "goal", "trigger"]
    assert all(
        schemas["Filter"]["properties"][name].get("description") for name in ("scope", "value", "goal")
    )
    assert "filters" in schemas["EvaluateRequest"]["properties"]


def test_compile_gives_unit_rows_with_the_filters(client: TestClient) -> None:
    trigger = {"scope": "trigger", "goal": "view"}
    answer = client.post("/compile", json=body(dialect="duckdb", rows="units", filters=[trigger]))
    assert answer.status_code == 200 and answer.json()["rows"] == "units"
    sql = answer.json()["sql"]["duckdb"]
    assert '"unit_id" AS "unit_id"' in sql and "\"goal\" = 'view'" in sql


def test_unit_rows_give_the_metric_rows_scorecard_over_http(client: TestClient) -> None:
    # Unit rows carry each unit's goal sums; the stats module evaluates them exactly, as metric rows.
    by_rows = {rows: client.post("/evaluate", json=body(rows=rows)).json() for rows in ("metrics", "units")}
    stats = {
        rows: [(s["mean"], s["std"], s["p_value"]) for m in result["metrics"] for s in m["stats"]]
        for rows, result in by_rows.items()
    }
    assert np.allclose(
        np.array(stats["units"], float), np.array(stats["metrics"], float), rtol=1e-9, equal_nan=True
    )


def test_sample_size_plans_for_the_always_valid_sequence(client: TestClient) -> None:
    from expsql.stats import sample_size

    body = {"n_variants": 2, "minimum_effect": 0.05, "mean": 0.4, "std": 1.1}
    answer = client.post("/sample-size-calculation", json=body | {"sequential": "always-valid"}).json()
    expected = sample_size(2, 0.05, 0.4, 1.1, sequential="always-valid")
    assert answer == {"sample_size_per_variant": expected}
    plain = client.post("/sample-size-calculation", json=body).json()["sample_size_per_variant"]
    assert expected > plain
    refused = client.post("/sample-size-calculation", json=body | {"sequential": "obrien-fleming"})
    assert refused.status_code == 422


def test_evaluate_reads_the_bayesian_readout_from_the_body(client: TestClient) -> None:
    from expsql.server.schemas import DEMO_BODY

    answer = client.post("/evaluate", json=DEMO_BODY | {"inference": "bayesian"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["readout"]["inference"] == "bayesian" and result["readout"]["correction"] == "none"
    treatment = result["metrics"][0]["stats"][1]
    assert 0 <= treatment["chance_to_win"] <= 1 and treatment["p_value"] is None
    assert treatment["risk_control"] >= 0 and treatment["risk_treatment"] >= 0
    refused = client.post("/evaluate", json=DEMO_BODY | {"inference": "bayesian", "sequential": "ep-stats"})
    assert refused.status_code == 422 and "a Bayesian readout has none" in refused.text
