"""The real server (``expsql serve`` under uvicorn, a subprocess) on PostgreSQL, with bearer tokens:
a client that leaves has its query cancelled, and SIGTERM during load drops no accepted request,
leaves no query running and exits 0.

Requests carry their own ``X-Request-ID`` and the server logs one JSON line per request it
received, so the test can tell "received and never answered" (a failure) from "refused at the
door" (a connection the closing server never accepted).
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from benchmarks.load import running_server
from tests.server.slow_warehouse import VIEW, active_queries, fast_body, slow_body
from tests.server.test_service import GONE_WITHIN, wait_until

if TYPE_CHECKING:
    import psycopg

APPLICATION = "expsql-lifecycle-test"
TOKEN = "lifecycle-token-0123456789abcdef"
SHUTDOWN_TIMEOUT = 2
SHUTTING_DOWN = {"detail": "the server is shutting down; send the request again", "error": "shutting_down"}
FAST_CLIENTS = 3


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def entries(self) -> list[dict[str, Any]]:
        """expsql's log lines (JSON objects, one a line), without uvicorn's own text lines."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def lines(self) -> list[dict[str, Any]]:
        """The request lines."""
        return [entry for entry in self.entries() if "request_id" in entry]


@pytest.fixture(scope="module")
def served(postgres_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("lifecycle")
    (directory / "source.yaml").write_text(f"table: {VIEW}\n")
    (directory / "expsql.toml").write_text(
        "\n".join(
            [
                "[server]",
                'dialect = "postgres"',
                f"connect = {postgres_warehouse!r}",
                'source = "source.yaml"',
                "workers = 4",
                "timeout = 60",
                f"shutdown_timeout = {SHUTDOWN_TIMEOUT}",
                'log_format = "json"',
                "[connectors.postgres]",
                f'application_name = "{APPLICATION}"',
                "",
            ]
        )
    )
    log = directory / "server.log"
    with running_server(directory / "expsql.toml", token=TOKEN, log_level="info", output=log) as (
        url,
        process,
    ):
        yield Served(url, process, log)


def post(url: str, body: dict[str, Any], request_id: str, timeout: float = 60) -> httpx.Response:
    """One request on a connection of its own (no keep-alive: each is accepted, or not, alone)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Request-ID": request_id}
    with httpx.Client(timeout=timeout) as client:
        return client.post(f"{url}/evaluate", json=body, headers=headers)


def test_a_request_without_the_token_is_refused_over_http(served: Served) -> None:
    answer = httpx.post(f"{served.url}/evaluate", json=fast_body(), timeout=10)
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    assert post(served.url, fast_body(), "warm-up").status_code == 200


def test_a_client_that_leaves_has_its_query_cancelled(
    served: Served, postgres_connection: psycopg.Connection[Any]
) -> None:
    with pytest.raises(httpx.ReadTimeout):  # the client gives up and closes its connection
        post(served.url, slow_body(), "leaves-early", timeout=1.5)
    gone = wait_until(
        lambda: active_queries(postgres_connection, APPLICATION) == 0, "the abandoned query leaving"
    )
    print(f"\npostgres: the abandoned query was gone {gone:.2f} s after the client left")
    wait_until(lambda: any(line["request_id"] == "leaves-early" for line in served.lines()), "the log line")
    (line,) = [line for line in served.lines() if line["request_id"] == "leaves-early"]
    assert line["status"] == 499 and line["error"] == "client_closed"


@dataclass
class Sent:
    request_id: str
    kind: str
    created: float
    status: int | None = None
    error: str | None = None
    body: dict[str, Any] | None = None


def test_sigterm_during_load_answers_every_accepted_request_and_leaves_no_query(
    served: Served, postgres_connection: psycopg.Connection[Any]
) -> None:
    sent: list[Sent] = []
    lock = threading.Lock()

    def send(kind: str, body: dict[str, Any], number: int) -> bool:
        request = Sent(f"{kind}-{number}", kind, created=time.monotonic())
        with lock:
            sent.append(request)
        try:
            answer = post(served.url, body, request.request_id)
            request.status, request.body = answer.status_code, answer.json()
        except httpx.TransportError as error:
            request.error = type(error).__name__
        return request.error is None

    def fast_client(index: int) -> None:  # evaluations one after another until the server is gone
        number = 0
        while send("fast", fast_body(), index * 1000 + number):
            number += 1

    threads = [threading.Thread(target=send, args=("slow", slow_body(), n)) for n in range(2)]
    threads += [threading.Thread(target=fast_client, args=(index,)) for index in range(FAST_CLIENTS)]
    for thread in threads:
        thread.start()
    wait_until(lambda: active_queries(postgres_connection, APPLICATION) >= 2, "both slow queries running")
    # Load: the fast clients have each had answers, and go on sending while the signal arrives.
    wait_until(lambda: sum(request.status == 200 for request in sent) >= 3 * FAST_CLIENTS, "the load")
    signalled = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=SHUTDOWN_TIMEOUT + GONE_WITHIN)
    exit_code = served.process.wait(timeout=GONE_WITHIN)
    print(f"\nSIGTERM: the server exited {time.monotonic() - signalled:.2f} s later with {exit_code}")
    assert exit_code == 0

    received = {line["request_id"]: line["status"] for line in served.lines()}
    for request in sent:
        if request.request_id in received:  # accepted: it must have its answer, the one logged
            assert request.error is None, f"{request.request_id} was received and never answered"
            assert request.status == received[request.request_id]
        else:  # refused at the door: the server had closed its socket (or was closing it)
            assert request.error == "ConnectError" or request.created > signalled, request
    slow = [request for request in sent if request.kind == "slow"]
    assert [(request.status, request.body) for request in slow] == [(503, SHUTTING_DOWN)] * 2
    fast = [request for request in sent if request.kind == "fast" and request.status is not None]
    assert [request.status for request in fast].count(200) >= 3 * FAST_CLIENTS
    # One still running at the deadline (on a machine this busy) is stopped like the slow ones.
    assert all(request.status == 200 or request.body == SHUTTING_DOWN for request in fast)
    assert active_queries(postgres_connection, APPLICATION) == 0
    stopped = sum(request.body == SHUTTING_DOWN for request in sent)
    messages = [entry.get("message", "") for entry in served.entries()]
    cancelled = [text for text in messages if text.startswith("query cancelled in the warehouse (shutdown)")]
    assert len(cancelled) == stopped
