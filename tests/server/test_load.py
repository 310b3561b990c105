"""The served API under concurrent load (a bounded run of ``benchmarks/load.py``) and over real HTTP.

Asserts what must hold however slow the machine is: every answer has its expected status (no 5xx,
no transport error) and the server's own counts agree with what the clients saw. Latency and
throughput are the benchmark's to print, never asserted here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.load import MIX, Load, report, run_load, running_server, valid_body, write_config

CLIENTS = 4
SECONDS = 3


@pytest.fixture(scope="module")
def served(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    config = write_config(tmp_path_factory.mktemp("load"), demo_database, workers=2)
    with running_server(config) as (url, process):
        # Warm: the first evaluation imports the statistics stack; the load measures the steady state.
        assert httpx.post(f"{url}/evaluate", json=valid_body(), timeout=60).status_code == 200
        yield url, process.pid


@pytest.fixture(scope="module")
def load(served: tuple[str, int]) -> Load:
    url, pid = served
    return run_load(url, pid, clients=CLIENTS, seconds=SECONDS)


def test_concurrent_clients_get_only_expected_statuses(load: Load) -> None:
    print(report(load))
    assert not load.transport_errors
    assert load.server_errors() == []
    assert load.unexpected() == []
    assert Counter(answer.kind for answer in load.answers).keys() == MIX.keys()
    assert len(load.rss) >= 2 and all(rss > 0 for _, rss in load.rss)


def test_the_servers_counts_agree_with_what_the_clients_saw(served: tuple[str, int], load: Load) -> None:
    url, _ = served
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
        for sample in family.samples
    }
    seen = Counter(answer.kind for answer in load.answers)
    warm_up = 1
    assert samples[("expsql_evaluations_total", (("outcome", "success"),))] == seen["evaluate"] + warm_up
    assert samples[("expsql_evaluations_total", (("outcome", "validation"),))] == seen["bad_expression"]
    assert samples[("expsql_evaluation_duration_seconds_count", ())] == seen["evaluate"] + warm_up
    assert samples[("expsql_evaluations_in_progress", ())] == 0


def test_a_chunked_body_over_the_limit_is_a_413_over_http(served: tuple[str, int], load: Load) -> None:
    url, _ = served

    def chunks() -> Iterator[bytes]:  # no Content-Length: the transfer is chunked
        for _ in range(40):
            yield b" " * 65536

    answer = httpx.post(f"{url}/evaluate", content=chunks(), headers={"content-type": "application/json"})
    assert answer.request.headers["transfer-encoding"] == "chunked"
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200
