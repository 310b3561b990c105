"""Request bodies' keys: an unknown key is a 422 naming the closest known one, except the ep-stats
fields ``/evaluate`` tolerates (:data:`expsql.server.schemas.EPSTATS_TOLERATED_KEYS`), which the
REST docs list."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from expsql.models import Experiment
from expsql.server.schemas import EPSTATS_TOLERATED_KEYS, EvaluateRequest
from tests.server.test_routes import body

REST_DOCS = Path(__file__).resolve().parents[2] / "docs" / "rest.md"
SAMPLE_SIZE = {"n_variants": 2, "minimum_effect": 0.05, "mean": 0.4, "std": None}


def _messages(answer: httpx.Response) -> str:
    """The 422's messages, as one text."""
    detail = answer.json()["detail"]
    return " ".join(problem["msg"] for problem in detail) if isinstance(detail, list) else str(detail)


def test_evaluate_tolerates_the_ep_stats_fields_expsql_does_not_use(client: TestClient) -> None:
    tolerated = {key: "iqr" for key in EPSTATS_TOLERATED_KEYS}
    answer = client.post("/evaluate", json=body(**tolerated))
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "checkout-redesign"


@pytest.mark.parametrize("route", ["/evaluate", "/compile"])
def test_a_misspelt_key_is_a_422_naming_the_key_it_missed(client: TestClient, route: str) -> None:
    misspelt = body(multple_exposures="first")
    misspelt["metrics"][0]["minimum_efect"] = 0.05
    answer = client.post(route, json=misspelt)
    assert answer.status_code == 422
    messages = _messages(answer)
    assert "unknown experiment key 'multple_exposures' (did you mean 'multiple_exposures'?)" in messages
    answer = client.post(route, json=body(metrics=misspelt["metrics"]))
    assert answer.status_code == 422
    assert "unknown metric key 'minimum_efect' (did you mean 'minimum_effect'?)" in _messages(answer)


def test_the_ep_stats_leniency_is_for_evaluate_alone(client: TestClient) -> None:
    for key in EPSTATS_TOLERATED_KEYS:
        answer = client.post("/compile", json=body(**{key: "iqr"}))
        assert answer.status_code == 422
        assert f"unknown experiment key {key!r}" in _messages(answer)


def test_a_misspelt_sample_size_key_is_a_422(client: TestClient) -> None:
    answer = client.post("/sample-size-calculation", json=SAMPLE_SIZE | {"varaince_reduction": 0.4})
    assert answer.status_code == 422
    assert "'varaince_reduction' (did you mean 'variance_reduction'?)" in _messages(answer)


def test_tolerated_keys_are_request_fields_only_and_listed_in_the_rest_docs() -> None:
    docs = REST_DOCS.read_text(encoding="utf-8")
    for key in EPSTATS_TOLERATED_KEYS:
        assert key in EvaluateRequest.model_fields and key not in Experiment.model_fields
        assert f"`{key}`" in docs
