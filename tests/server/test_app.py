"""The app's machinery: one worker pool per app, bounded; the per-request timeout; warehouse failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from expsql.config import ServerSettings
from expsql.dialects.duckdb import DuckDBDao
from expsql.server import ConnectorDaoFactory, DemoDaoFactory
from expsql.server.app import create_app
from tests.server.test_routes import body


class GatedDao:
    """A warehouse that answers only once the gate opens: a slow query, as the timeout sees it. It has
    no ``cancel()`` (a plugin's Dao may not), so the query goes on after the 504 as it always did."""

    def __init__(self, path: Path, gate: threading.Event) -> None:
        import duckdb

        self.inner = DuckDBDao(duckdb.connect(str(path), read_only=True))
        self.gate = gate

    def execute(self, sql: str) -> pd.DataFrame:
        self.gate.wait(timeout=30)
        return self.inner.execute(sql)

    def close(self) -> None:
        self.inner.close()


class SlowFactory:
    dialect = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.gate = threading.Event()
        self.opened = 0

    def get_dao(self) -> GatedDao:
        self.opened += 1
        return GatedDao(self.path, self.gate)


@pytest.fixture
def slow(demo_database: Path) -> Iterator[SlowFactory]:
    factory = SlowFactory(demo_database)
    yield factory
    factory.gate.set()  # let blocked worker threads finish


def test_pool_is_created_once_at_startup_and_shut_down_after(demo_factory: DemoDaoFactory) -> None:
    app = create_app(demo_factory, settings=ServerSettings(workers=3))
    service = app.state.service
    with TestClient(app) as client:
        pool = service._pool
        assert pool is not None and pool._max_workers == 3
        assert client.post("/evaluate", json=body()).status_code == 200
        assert client.post("/evaluate", json=body()).status_code == 200
        assert service._pool is pool
    assert service._pool is None and pool._shutdown


def test_slow_evaluation_is_a_504_and_the_pool_bounds_concurrency(slow: SlowFactory) -> None:
    app = create_app(slow, settings=ServerSettings(workers=1, timeout=0.5))
    with TestClient(app) as client:
        started = time.monotonic()
        first = client.post("/evaluate", json=body())
        assert first.status_code == 504
        assert first.json() == {
            "detail": "the evaluation took longer than the server's timeout of 0.5 s",
            "error": "timeout",
        }
        assert time.monotonic() - started < 5
        # The one worker is still blocked: the next evaluation waits its turn and never starts.
        assert client.post("/evaluate", json=body()).status_code == 504
        assert slow.opened == 1
        assert client.get("/health").status_code == 200  # the event loop was never blocked
        slow.gate.set()


def test_unreachable_warehouse_is_a_503_with_the_reason() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    factory = ConnectorDaoFactory("postgres", f"host=127.0.0.1 port={port} user=expsql connect_timeout=3")
    with TestClient(create_app(factory)) as client:
        answer = client.post("/evaluate", json=body())
    assert answer.status_code == 503
    assert answer.json()["error"] == "warehouse"
    assert "cannot connect to postgres" in answer.json()["detail"] and "Traceback" not in answer.text


def test_a_query_the_warehouse_refuses_is_a_503(tmp_path: Path) -> None:
    import duckdb

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    factory = ConnectorDaoFactory("duckdb", str(empty), {"read_only": True})
    with TestClient(create_app(factory)) as client:
        answer = client.post("/evaluate", json=body())
    assert answer.status_code == 503
    assert "refused the query" in answer.json()["detail"] and "events" in answer.json()["detail"]


def test_a_failing_integrator_factory_is_a_503(demo_database: Path) -> None:
    class Broken:
        dialect = "duckdb"

        def get_dao(self) -> DuckDBDao:
            raise OSError("connection pool exhausted")

    with TestClient(create_app(Broken())) as client:
        answer = client.post("/evaluate", json=body())
    assert answer.status_code == 503
    assert (
        answer.json()["detail"]
        == "cannot connect to the duckdb warehouse: OSError: connection pool exhausted"
    )


def test_one_factory_per_dialect_the_first_is_the_default(demo_database: Path) -> None:
    duckdb_factory = DemoDaoFactory(demo_database)
    postgres_factory = ConnectorDaoFactory("postgres", "host=127.0.0.1 port=1")
    with TestClient(create_app([duckdb_factory, postgres_factory])) as client:
        assert client.get("/health").json()["dialects"] == ["duckdb", "postgres"]
        served = {d["name"]: (d["served"], d["default"]) for d in client.get("/dialects").json()}
        assert served["duckdb"] == (True, True) and served["postgres"] == (True, False)
        assert client.post("/evaluate", json=body(dialect="postgres")).status_code == 503
        assert client.post("/evaluate", json=body()).status_code == 200
