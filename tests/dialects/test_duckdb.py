"""The DuckDB dialect and its Dao: in memory, on a file, on a borrowed connection."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import numpy as np
import pytest

from expsql.dialects import Dao, get
from expsql.errors import ConnectorError
from tests.server.slow_warehouse import count_generated

ROWS_SQL = (
    "SELECT 'exp-1' AS exp_id, 'a' AS exp_variant_id, SUM(x)::HUGEINT AS count,"
    " SUM(x)::DECIMAL(18, 3) AS sum_value FROM (VALUES (1), (2)) AS t(x)"
)


def test_in_memory_dao_returns_contract_types() -> None:
    dao = get("duckdb").connect()
    assert isinstance(dao, Dao)
    rows = dao.execute(ROWS_SQL)
    dao.close()
    assert rows.to_dict("records") == [
        {"exp_id": "exp-1", "exp_variant_id": "a", "count": 3, "sum_value": 3.0}
    ]
    assert rows["count"].dtype == np.int64
    assert rows["sum_value"].dtype == np.float64


def test_file_target_persists_between_connections(tmp_path: Path) -> None:
    database = str(tmp_path / "events.duckdb")
    writer = get("duckdb").connect(database)
    writer.execute("CREATE TABLE t AS SELECT 41 + 1 AS n")
    writer.close()
    reader = get("duckdb").connect(database, read_only=True)
    assert reader.execute("SELECT n FROM t")["n"].tolist() == [42]
    reader.close()


def test_borrowed_connection_stays_open_after_close() -> None:
    connection = duckdb.connect()
    dao = get("duckdb").connect(connection=connection)
    dao.close()
    assert connection.execute("SELECT 1").fetchall() == [(1,)]
    connection.close()


def test_owned_connection_is_closed() -> None:
    dao = get("duckdb").connect()
    dao.close()
    with pytest.raises(ConnectorError, match="duckdb refused the query"):
        dao.execute("SELECT 1")


def test_bad_sql_is_a_connector_error() -> None:
    dao = get("duckdb").connect()
    with pytest.raises(ConnectorError, match="no_such_table"):
        dao.execute("SELECT * FROM no_such_table")
    dao.close()


def test_cancel_from_another_thread_interrupts_the_query() -> None:
    dao = get("duckdb").connect()
    timer = threading.Timer(0.5, dao.cancel)  # type: ignore[attr-defined]
    timer.start()
    with pytest.raises(ConnectorError, match="Interrupted"):
        dao.execute(count_generated("duckdb"))
    timer.join()
    assert dao.execute("SELECT 1 AS n")["n"].tolist() == [1]  # the connection serves on
    dao.cancel()  # type: ignore[attr-defined]  # idle: a no-op, and the next query is not affected
    assert dao.execute("SELECT 2 AS n")["n"].tolist() == [2]
    dao.close()
