"""Queries stopped in the warehouse: after the 504, each engine drops the query it was running.

The query is genuinely slow (``tests.server.slow_warehouse``: ~10^12 generated rows, hours of
work), so without a cancel the warehouse would still run it long after the test. Each test
checks it is gone — PostgreSQL's ``pg_stat_activity`` has no active query of ours; DuckDB and
Spark freed the one worker (and Spark has no active job) — waiting at most :data:`GONE_WITHIN`
seconds, and that the next evaluation is then served on that same worker. How long the cancel
took is printed (``-s``) and kept in the ``expsql_cancel_duration_seconds`` histogram.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from expsql.config import ServerSettings
from expsql.dialects.duckdb import DuckDBDao
from expsql.dialects.spark import SparkDao
from expsql.runner import run
from expsql.server import ConnectorDaoFactory
from expsql.server.app import create_app
from expsql.server.schemas import EvaluateRequest
from expsql.server.service import EvaluationStopped, RunningQuery
from expsql.source import Source
from tests.server.slow_warehouse import VIEW, active_queries, fast_body, slow_body
from tests.server.test_metrics import scrape, value

if TYPE_CHECKING:
    import psycopg
    from pyspark.sql import SparkSession

#: Seconds the warehouse may take to drop a cancelled query (it would otherwise run for hours).
GONE_WITHIN = 20.0
APPLICATION = "expsql-cancel-test"


def wait_until(condition: Callable[[], bool], what: str) -> float:
    """Seconds until ``condition()`` holds; fails after :data:`GONE_WITHIN`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > GONE_WITHIN:
            pytest.fail(f"{what} did not happen within {GONE_WITHIN:g} s")
        time.sleep(0.05)
    return time.monotonic() - started


def busy_workers(client: TestClient) -> float:
    return value(scrape(client), "expsql_pool_busy_workers")


def slow_then_fast(client: TestClient, engine: str, query_gone: Callable[[], bool]) -> None:
    """The slow evaluation is a 504; its query is gone from the warehouse; the next one is served."""
    started = time.monotonic()
    assert client.post("/evaluate", json=fast_body()).status_code == 200
    normal = time.monotonic() - started
    started = time.monotonic()
    answer = client.post("/evaluate", json=slow_body())
    answered = time.monotonic() - started
    assert answer.status_code == 504, answer.text
    assert answer.json()["error"] == "timeout"
    gone = wait_until(query_gone, f"{engine}: the cancelled query leaving the warehouse")
    freed = wait_until(lambda: busy_workers(client) == 0, f"{engine}: the worker coming free")
    started = time.monotonic()
    assert client.post("/evaluate", json=fast_body()).status_code == 200  # on the one worker
    next_seconds = time.monotonic() - started
    samples = scrape(client)
    assert value(samples, "expsql_cancelled_queries_total", reason="timeout") == 1
    print(
        f"\n{engine}: 504 after {answered:.2f} s; query gone {gone:.2f} s and worker free "
        f"{max(gone, freed):.2f} s after the 504; next evaluation {next_seconds:.2f} s, "
        f"{next_seconds / normal:.2f}x the one before the slow one"
    )


class OpenedDaos(ConnectorDaoFactory):
    """Keeps the Daos it opened, so that a failing test can still stop their queries (and the test
    process can exit: it would wait for its worker thread)."""

    def __init__(self, *arguments: Any) -> None:
        super().__init__(*arguments)
        self.opened: list[DuckDBDao] = []

    def get_dao(self) -> DuckDBDao:
        dao = super().get_dao()
        self.opened.append(dao)  # type: ignore[arg-type]
        return dao  # type: ignore[return-value]


def test_duckdb_query_over_the_timeout_is_interrupted_and_its_worker_serves_the_next(
    duckdb_warehouse: Path,
) -> None:
    factory = OpenedDaos("duckdb", str(duckdb_warehouse), {"read_only": True}, Source(table=VIEW))
    try:
        with TestClient(create_app(factory, settings=ServerSettings(workers=1, timeout=2))) as client:
            slow_then_fast(client, "duckdb", lambda: busy_workers(client) == 0)
    finally:
        for dao in factory.opened:
            with contextlib.suppress(duckdb.ConnectionException):  # closed: its query is over
                dao.connection.interrupt()


def test_postgres_query_over_the_timeout_is_cancelled_in_the_server(
    postgres_warehouse: str, postgres_connection: psycopg.Connection[Any]
) -> None:
    options = {"application_name": APPLICATION}
    factory = ConnectorDaoFactory("postgres", postgres_warehouse, options, Source(table=VIEW))
    seen_running = threading.Event()
    shared = threading.Lock()  # the watcher and the test take turns on the one connection

    def watch() -> None:  # proves the query did reach the server before it was cancelled
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not seen_running.is_set():
            with shared:
                if active_queries(postgres_connection, APPLICATION) == 1:
                    seen_running.set()
            time.sleep(0.05)

    def gone() -> bool:
        with shared:
            return active_queries(postgres_connection, APPLICATION) == 0

    watcher = threading.Thread(target=watch)
    with TestClient(create_app(factory, settings=ServerSettings(workers=1, timeout=2))) as client:
        watcher.start()
        slow_then_fast(client, "postgres", gone)
        watcher.join()
    assert seen_running.is_set(), "the slow query never showed in pg_stat_activity"


class SessionFactory:
    """Daos on the test session's Spark (not stopped after each request)."""

    dialect = "spark"
    source = Source(table=VIEW)

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    def get_dao(self) -> SparkDao:
        return SparkDao(self.session, owned=False)


def test_spark_jobs_over_the_timeout_are_cancelled_and_free_the_cores(spark_warehouse: SparkSession) -> None:
    tracker = spark_warehouse.sparkContext.statusTracker()
    factory = SessionFactory(spark_warehouse)
    # Warm, outside the server's timeout: the first queries compile Spark's code (seconds on a cold JVM).
    experiment = EvaluateRequest.model_validate(fast_body())
    for _ in range(2):
        run(experiment, factory.get_dao(), dialect="spark", source=factory.source)
    with TestClient(create_app(factory, settings=ServerSettings(workers=1, timeout=10))) as client:
        slow_then_fast(client, "spark", lambda: not tracker.getActiveJobsIds())


def test_a_stopped_evaluation_never_starts_its_query(duckdb_warehouse: Path) -> None:
    query = RunningQuery()
    assert query.cancel() == "no_query"  # the worker is still connecting
    dao = DuckDBDao(duckdb.connect(str(duckdb_warehouse), read_only=True))
    with pytest.raises(EvaluationStopped):
        query.attach(dao)
    dao.close()


class PluginDao:
    """A third-party Dao of the protocol's two required methods only (no ``cancel()``)."""

    def __init__(self, path: Path) -> None:
        self.inner = DuckDBDao(duckdb.connect(str(path), read_only=True))

    def execute(self, sql: str) -> Any:
        return self.inner.execute(sql)

    def close(self) -> None:
        self.inner.close()


def test_a_dao_without_cancel_is_left_to_finish(duckdb_warehouse: Path) -> None:
    query = RunningQuery()
    dao = PluginDao(duckdb_warehouse)
    query.attach(dao)
    assert query.cancel() == "unsupported"
    query.detach()
    assert query.cancel() == "no_query"
    dao.close()
