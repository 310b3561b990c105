"""The pipeline runner: compile → execute → evaluate; warehouse failures become ConnectorError."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expsql.demo import demo_experiment, write_demo_database
from expsql.dialects.duckdb import DuckDBDao
from expsql.errors import ConnectorError
from expsql.runner import connect, execute, open_dao, run


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_database(tmp_path_factory.mktemp("runner") / "demo.duckdb", units=3_000)


class RecordingDao(DuckDBDao):
    """expsql's DuckDB Dao that remembers whether it was closed."""

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


def test_run_compiles_executes_evaluates_and_closes(database: Path) -> None:
    dao = RecordingDao(duckdb.connect(str(database), read_only=True))
    seen: list[str] = []
    result = run(demo_experiment(), dao, dialect="duckdb", rows="goals", on_query=seen.append)
    assert dao.closed and seen == [result.sql]
    assert result.rows == "goals" and result.query_seconds > 0 and result.stats_seconds > 0
    assert set(result.frame["goal"]) >= {"exposure", "conversion"}
    assert result.evaluation.contract == "goal rows"
    assert list(result.evaluation.metrics["metric_id"].astype(str).unique()) == ["1", "2", "3", "4", "5"]


def test_a_refused_query_is_a_connector_error_and_the_dao_is_closed(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    dao = RecordingDao(duckdb.connect(str(empty), read_only=True))
    with pytest.raises(ConnectorError, match="events"):
        run(demo_experiment(), dao, dialect="duckdb")
    assert dao.closed


def test_any_exception_of_a_dao_becomes_a_connector_error() -> None:
    class Failing:
        def execute(self, sql: str) -> pd.DataFrame:
            raise TimeoutError("statement timeout")

        def close(self) -> None: ...

    with pytest.raises(
        ConnectorError, match="the warehouse refused the query: TimeoutError: statement timeout"
    ):
        execute(Failing(), "SELECT 1")


def test_connection_failures_are_connector_errors(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="cannot connect to duckdb"):
        connect("duckdb", str(tmp_path / "missing.duckdb"), {"read_only": True})

    def refuse() -> DuckDBDao:
        raise OSError("no route to host")

    with pytest.raises(
        ConnectorError, match="cannot connect to the postgres warehouse: OSError: no route to host"
    ):
        open_dao(refuse, "postgres")
