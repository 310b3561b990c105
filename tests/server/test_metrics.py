"""``/metrics``: the counts and histograms move by exactly what the requests in between did.

Read back as a scraper does: the text exposition format, parsed by prometheus_client's parser.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from expsql.config import ServerSettings
from expsql.dialects.duckdb import DuckDBDao
from expsql.server import DemoDaoFactory
from expsql.server.app import create_app
from expsql.server.metrics import error_type
from tests.server.test_app import SlowFactory
from tests.server.test_routes import body

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; a series not created yet (no request of its kind) reads 0."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def change(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def bad_expression() -> dict:
    broken = body()
    broken["metrics"][0]["nominator"] = "sum(user.unit.conversion)"
    return broken


def test_evaluations_and_errors_move_the_counts_and_histograms_exactly(client: TestClient) -> None:
    before = scrape(client)
    assert client.post("/evaluate", json=body()).status_code == 200
    assert client.post("/evaluate", json=body(rows="goals")).status_code == 200
    assert client.post("/evaluate", json=bad_expression()).status_code == 422
    assert client.get("/no-such-page").status_code == 404
    after = scrape(client)

    requests = "expsql_http_requests_total"
    assert change(before, after, requests, endpoint="/evaluate", method="POST", status="200") == 2
    assert change(before, after, requests, endpoint="/evaluate", method="POST", status="422") == 1
    assert change(before, after, requests, endpoint="unmatched", method="GET", status="404") == 1
    assert change(before, after, requests, endpoint="/metrics", method="GET", status="200") == 1
    assert change(before, after, "expsql_http_errors_total", endpoint="/evaluate", type="validation") == 1
    assert change(before, after, "expsql_http_errors_total", endpoint="unmatched", type="not_found") == 1
    assert change(before, after, "expsql_evaluations_total", outcome="success") == 2
    assert change(before, after, "expsql_evaluations_total", outcome="validation") == 1
    assert change(before, after, "expsql_http_request_duration_seconds_count", endpoint="/evaluate") == 3
    # The bad expression is refused before the pool: only the two evaluations reached the warehouse.
    for histogram in ("evaluation", "query", "stats"):
        assert change(before, after, f"expsql_{histogram}_duration_seconds_count") == 2
        assert change(before, after, f"expsql_{histogram}_duration_seconds_bucket", le="+Inf") == 2
    evaluation = change(before, after, "expsql_evaluation_duration_seconds_sum")
    query = change(before, after, "expsql_query_duration_seconds_sum")
    stats = change(before, after, "expsql_stats_duration_seconds_sum")
    assert 0 < query < evaluation and 0 < stats < evaluation and query + stats < evaluation
    assert value(after, "expsql_evaluations_in_progress") == 0
    assert value(after, "expsql_pool_busy_workers") == 0
    assert value(after, "expsql_pool_queued_evaluations") == 0
    assert value(after, "expsql_pool_workers") == ServerSettings().workers
    assert value(after, "expsql_build_info", version="0.1.0") == 1


def test_timeouts_and_unreachable_warehouses_are_counted_by_type(slow: SlowFactory) -> None:
    class Broken:
        dialect = "duckdb"

        def get_dao(self) -> DuckDBDao:
            raise OSError("connection pool exhausted")

    with TestClient(create_app(slow, settings=ServerSettings(workers=1, timeout=0.2))) as client:
        assert client.post("/evaluate", json=body()).status_code == 504
        timed_out = scrape(client)
    assert value(timed_out, "expsql_evaluations_total", outcome="timeout") == 1
    assert value(timed_out, "expsql_http_errors_total", endpoint="/evaluate", type="timeout") == 1
    slow.gate.set()

    with TestClient(create_app(Broken())) as client:
        assert client.post("/evaluate", json=body()).status_code == 503
        unreachable = scrape(client)
    assert value(unreachable, "expsql_evaluations_total", outcome="warehouse") == 1
    assert value(unreachable, "expsql_http_errors_total", endpoint="/evaluate", type="warehouse") == 1
    # The job ran (and failed on connecting): its time is counted, no query or statistics were.
    assert value(unreachable, "expsql_evaluation_duration_seconds_count") == 1
    assert value(unreachable, "expsql_query_duration_seconds_count") == 0


def wait_for(client: TestClient, name: str, expected: float) -> Samples:
    """Scrape until ``name`` reads ``expected`` (the requests run in other threads)."""
    deadline = time.monotonic() + 30
    while True:
        samples = scrape(client)
        if value(samples, name) == expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.02)


@pytest.fixture
def slow(demo_database: Path) -> Iterator[SlowFactory]:
    factory = SlowFactory(demo_database)
    yield factory
    factory.gate.set()


def test_in_progress_evaluations_and_pool_saturation(slow: SlowFactory) -> None:
    answers: list[int] = []
    with TestClient(create_app(slow, settings=ServerSettings(workers=1, timeout=60))) as client:

        def evaluate() -> None:
            answers.append(client.post("/evaluate", json=body()).status_code)

        first = threading.Thread(target=evaluate)
        first.start()
        running = wait_for(client, "expsql_pool_busy_workers", 1)
        assert value(running, "expsql_evaluations_in_progress") == 1
        assert value(running, "expsql_pool_queued_evaluations") == 0
        second = threading.Thread(target=evaluate)
        second.start()
        saturated = wait_for(client, "expsql_pool_queued_evaluations", 1)
        assert value(saturated, "expsql_evaluations_in_progress") == 2
        assert value(saturated, "expsql_pool_busy_workers") == 1
        slow.gate.set()
        first.join(timeout=60)
        second.join(timeout=60)
        done = scrape(client)
    assert answers == [200, 200]
    for gauge in (
        "expsql_evaluations_in_progress",
        "expsql_pool_busy_workers",
        "expsql_pool_queued_evaluations",
    ):
        assert value(done, gauge) == 0, gauge
    assert value(done, "expsql_evaluation_duration_seconds_count") == 2


def test_two_apps_in_one_process_count_apart(demo_factory: DemoDaoFactory) -> None:
    with TestClient(create_app(demo_factory)) as first, TestClient(create_app(demo_factory)) as second:
        assert first.post("/evaluate", json=body()).status_code == 200
        assert value(scrape(first), "expsql_evaluations_total", outcome="success") == 1
        assert value(scrape(second), "expsql_evaluations_total", outcome="success") == 0


def test_metric_names_follow_the_prometheus_conventions(client: TestClient) -> None:
    client.post("/evaluate", json=bad_expression())
    families = list(text_string_to_metric_families(client.get("/metrics").text))
    assert families
    for family in families:
        assert family.name.startswith("expsql_"), family.name
        assert family.name == family.name.lower()
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        if family.type == "counter":
            assert all(sample.name.endswith(("_total", "_created")) for sample in family.samples), family.name


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, None),
        (307, None),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (408, "body_timeout"),
        (409, "refresh_busy"),
        (413, "too_large"),
        (422, "validation"),
        (429, "client"),
        (500, "internal"),
        (502, "server"),
        (503, "warehouse"),
        (504, "timeout"),
    ],
)
def test_error_types_of_status_codes(status: int, kind: str | None) -> None:
    assert error_type(status) == kind
