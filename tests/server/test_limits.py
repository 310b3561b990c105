"""Request limits: the body size (413, before parsing, with or without Content-Length) and the
number of metrics and checks (422); each answer says which limit and where to raise it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi.testclient import TestClient

from expsql.config import ServerSettings, load_config
from expsql.server import DemoDaoFactory
from expsql.server.app import create_app
from expsql.server.limits import declared_length
from tests.server.test_routes import EXPOSURES, body

LIMIT = 2048
TOO_LARGE = {
    "detail": f"the request body is larger than this server's limit of {LIMIT} bytes "
    "([server] max_body_bytes)",
    "error": "too_large",
}


def padded(size: int) -> bytes:
    """A valid evaluation body of exactly ``size`` bytes (a metric's name is the padding)."""

    def named(name: str) -> bytes:
        request = body()
        request["metrics"][0]["name"] = name
        return json.dumps(request).encode()

    return named("x" * (size - len(named(""))))


def test_a_body_over_the_declared_limit_is_a_413_and_nothing_runs(demo_factory: DemoDaoFactory) -> None:
    app = create_app(demo_factory, settings=ServerSettings(max_body_bytes=LIMIT))
    with TestClient(app) as client:
        exactly = padded(LIMIT)
        assert len(exactly) == LIMIT
        assert client.post(
            "/evaluate", content=exactly, headers={"content-type": "application/json"}
        ).is_success
        answer = client.post(
            "/evaluate", content=padded(LIMIT + 1), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json() == TOO_LARGE
        assert answer.headers["connection"] == "close"
        assert client.post("/compile", content=b"[" * (LIMIT + 1)).status_code == 413
    registry = app.state.service.metrics.registry
    assert registry.get_sample_value("expsql_evaluation_duration_seconds_count") == 1  # the one within
    assert (
        registry.get_sample_value("expsql_http_errors_total", {"endpoint": "/evaluate", "type": "too_large"})
        == 1
    )


def asgi_post(
    app: object, chunks: list[bytes], headers: list[tuple[bytes, bytes]], pause: float = 0.0
) -> tuple[dict, int]:
    """POST /evaluate straight through the ASGI interface, the body in ``chunks`` (chunked transfer),
    ``pause`` seconds before each chunk (a slow client)."""
    sent: list[dict] = []
    read = 0

    async def receive() -> dict:
        nonlocal read
        if read < len(chunks):
            await asyncio.sleep(pause)
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        # As a server does while its client waits for the answer: the disconnect never comes
        # (an immediate one would be a client gone, whose evaluation the server stops).
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/evaluate",
        "raw_path": b"/evaluate",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "server": ("test", 80),
        "client": ("test", 1234),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    start = next(message for message in sent if message["type"] == "http.response.start")
    payload = b"".join(
        message.get("body", b"") for message in sent if message["type"] == "http.response.body"
    )
    return {"status": start["status"], "body": json.loads(payload)}, read


def test_a_streamed_body_without_content_length_is_cut_at_the_limit(demo_factory: DemoDaoFactory) -> None:
    app = create_app(demo_factory, settings=ServerSettings(max_body_bytes=LIMIT))
    chunks = [b" " * 1000] * 10  # 10 kB of whitespace announced by no header
    answer, read = asgi_post(app, chunks, [(b"content-type", b"application/json")])
    assert answer == {"status": 413, "body": TOO_LARGE}
    assert read == 3  # the third chunk crossed 2048 bytes: the other seven were never read
    within = padded(LIMIT)
    pieces = [within[i : i + 500] for i in range(0, len(within), 500)]
    answer, read = asgi_post(app, pieces, [(b"content-type", b"application/json")])
    assert answer["status"] == 200 and read == len(pieces)


def test_declared_length_reads_the_header() -> None:
    assert declared_length({"headers": [(b"content-length", b"12")]}) == 12
    assert declared_length({"headers": [(b"content-length", b"twelve")]}) is None
    assert declared_length({"headers": []}) is None


def test_the_limit_comes_from_the_config_file(tmp_path: Path, demo_factory: DemoDaoFactory) -> None:
    config_file = tmp_path / "expsql.toml"
    config_file.write_text("[server]\nmax_body_bytes = 4096\nmax_metrics = 1\n")
    config = load_config(config_file)
    assert config.server.max_body_bytes == 4096
    assert ServerSettings().max_body_bytes == 1024 * 1024
    with TestClient(create_app(demo_factory, config=config)) as client:
        answer = client.post("/evaluate", content=b"{" * 4097, headers={"content-type": "application/json"})
        assert answer.status_code == 413 and "limit of 4096 bytes" in answer.json()["detail"]
        assert client.post("/evaluate", json=body()).status_code == 422  # two metrics, one allowed


def test_too_many_metrics_or_checks_is_a_422_that_names_the_limit(demo_factory: DemoDaoFactory) -> None:
    settings = ServerSettings(max_metrics=2, max_checks=1)
    metric = body()["metrics"][0]
    three = [{**metric, "id": i} for i in (1, 2, 3)]
    two_checks = [{"id": i, "name": "SRM", "denominator": EXPOSURES} for i in (1, 2)]
    with TestClient(create_app(demo_factory, settings=settings)) as client:
        for path in ("/evaluate", "/compile"):
            answer = client.post(path, json=body(metrics=three))
            assert answer.status_code == 422
            assert answer.json() == {
                "detail": "the experiment has 3 metrics; this server evaluates at most 2 per request "
                "([server] max_metrics)",
                "error": "ExperimentError",
            }
            answer = client.post(path, json=body(checks=two_checks))
            assert answer.status_code == 422
            assert answer.json()["detail"] == (
                "the experiment has 2 checks; this server evaluates at most 1 per request "
                "([server] max_checks)"
            )
        assert client.post("/evaluate", json=body(metrics=three[:2])).status_code == 200


def test_a_body_trickling_in_past_the_timeout_is_a_408(demo_factory: DemoDaoFactory) -> None:
    app = create_app(demo_factory, settings=ServerSettings(body_timeout=0.3))
    request = json.dumps(body()).encode()
    chunks = [request[i : i + 64] for i in range(0, len(request), 64)]
    headers = [(b"content-type", b"application/json")]
    answer, read = asgi_post(app, chunks, headers, pause=0.05)
    assert answer == {
        "status": 408,
        "body": {
            "detail": "the request body did not arrive within 0.3 s ([server] body_timeout)",
            "error": "body_timeout",
        },
    }
    assert read < len(chunks)  # cut off, not read to the end
    answer, read = asgi_post(app, chunks, headers)  # the same body, sent promptly, is evaluated
    assert answer["status"] == 200 and answer["body"]["id"] == body()["id"]
    registry = app.state.service.metrics.registry
    labels = {"endpoint": "/evaluate", "type": "body_timeout"}
    assert registry.get_sample_value("expsql_http_errors_total", labels) == 1
