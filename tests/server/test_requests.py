"""Request ids on every answer, one log line per request (never a literal, a token or a password),
and the 4xx of malformed ids and oversized headers, counted in ``/metrics``."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from expsql.config import ServerSettings
from expsql.server import DemoDaoFactory
from expsql.server.app import create_app
from tests.server.test_metrics import bad_expression, change, scrape
from tests.server.test_routes import body

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
REQUEST_LOG = "expsql.server.requests"
#: Values a request carries into the SQL as literals, and a token: none may reach a log.
SECRET_EXPERIMENT = "experiment-literal-4a1f"
SECRET_PRODUCT = "product-literal-77c2"
TOKEN = "log-test-token-0123456789abcdef"


@pytest.fixture
def json_client(demo_factory: DemoDaoFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("EXPSQL_TEST_TOKENS", TOKEN)
    settings = ServerSettings(log_format="json", tokens_env="EXPSQL_TEST_TOKENS")
    with TestClient(create_app(demo_factory, settings=settings)) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


def request_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == REQUEST_LOG]


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    answers = [
        client.get("/health"),
        client.post("/evaluate", json=body()),
        client.post("/evaluate", json=bad_expression()),  # 422
        client.get("/no-such-page"),
        client.post("/evaluate", content=b" " * 2_000_000),  # 413 from the body limit
    ]
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert [answer.status_code for answer in answers] == [200, 200, 422, 404, 413]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("given", ["req-42", "01J9ZQ4W7K8Q:retry.2", "a" * 128])
def test_a_well_formed_request_id_is_kept(client: TestClient, given: str) -> None:
    assert client.get("/health", headers={"X-Request-ID": given}).headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["a" * 129, "has space", 'quote"d', "semi;colon"])
def test_an_odd_request_id_is_replaced(client: TestClient, given: str) -> None:
    answer = client.get("/health", headers={"X-Request-ID": given})
    assert answer.status_code == 200
    assert GENERATED_ID.fullmatch(answer.headers["x-request-id"])


@pytest.mark.parametrize("given", [b"forged\x1b[2Jline", b"tab\there", b"bell\x07", b"del\x7f"])
def test_a_request_id_with_control_characters_is_a_400(client: TestClient, given: bytes) -> None:
    before = scrape(client)
    answer = client.post("/evaluate", json=body(), headers={"X-Request-ID": given})  # type: ignore[dict-item]
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "the X-Request-ID header holds control characters",
        "error": "bad_request_id",
    }
    assert GENERATED_ID.fullmatch(answer.headers["x-request-id"])
    after = scrape(client)
    assert change(before, after, "expsql_http_errors_total", endpoint="/evaluate", type="bad_request_id") == 1


def test_headers_over_the_limit_are_a_431(demo_factory: DemoDaoFactory) -> None:
    with TestClient(create_app(demo_factory, settings=ServerSettings(max_header_bytes=4096))) as client:
        before = scrape(client)
        answer = client.post("/evaluate", json=body(), headers={"X-Padding": "x" * 5000})
        assert answer.status_code == 431
        assert answer.json()["error"] == "headers_too_large"
        assert "[server] max_header_bytes" in answer.json()["detail"]
        assert client.post("/evaluate", json=body(), headers={"X-Padding": "x" * 3000}).status_code == 200
        after = scrape(client)
    errors = change(before, after, "expsql_http_errors_total", endpoint="/evaluate", type="headers_too_large")
    assert errors == 1


def test_one_json_line_per_request_with_what_it_evaluated(
    json_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOG)
    answer = json_client.post("/evaluate", json=body(rows="goals"), headers={"X-Request-ID": "req-7"})
    assert answer.status_code == 200
    json_client.get("/health")
    lines = [json.loads(line) for line in request_lines(caplog)]
    assert len(lines) == 2
    evaluation, health = lines
    assert evaluation.pop("duration_ms") >= 0
    assert evaluation == {
        "request_id": "req-7",
        "method": "POST",
        "endpoint": "/evaluate",
        "status": 200,
        "dialect": "duckdb",
        "rows": "goals",
        "metrics": len(body()["metrics"]),
    }
    assert health["endpoint"] == "/health" and health["status"] == 200 and "dialect" not in health


def test_refusals_are_logged_with_their_type(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOG)
    client.get("/health", headers={"X-Request-ID": "req-1"})
    client.post("/evaluate", json=body(), headers={"X-Request-ID": b"x\x1by"})  # type: ignore[dict-item]
    first, second = request_lines(caplog)
    assert first.startswith("request_id=req-1 method=GET endpoint=/health status=200 duration_ms=")
    assert "status=400" in second and second.endswith("error=bad_request_id")


def test_no_literal_token_or_expression_reaches_any_log(
    json_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = body(id=SECRET_EXPERIMENT)
    secret["metrics"][0]["nominator"] = f"count(test_unit_type.unit.conversion(product={SECRET_PRODUCT}))"
    assert json_client.post("/evaluate", json=secret).status_code == 200
    assert json_client.post("/compile", json=secret).status_code == 200
    json_client.get("/health", headers={"Authorization": f"Bearer {TOKEN}x"})
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("expsql"))
    assert request_lines(caplog), "nothing was logged: the test would pass vacuously"
    for secret_text in (SECRET_EXPERIMENT, SECRET_PRODUCT, TOKEN, "SELECT", "count("):
        assert secret_text not in logged


def test_a_crash_is_a_500_with_its_request_id_and_a_logged_traceback(
    demo_factory: DemoDaoFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(demo_factory)

    def crash() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/crash", crash)
    with TestClient(app) as client:
        answer = client.get("/crash", headers={"X-Request-ID": "req-500"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "req-500"
    assert answer.json() == {"detail": "internal error", "error": "internal"}
    failed = [record for record in caplog.records if record.exc_info]
    assert failed and "req-500" in failed[0].getMessage()
