"""The PostgreSQL Dao on the session's real server: NUMERIC sums, '%' in literals, errors."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from expsql.dialects import get
from expsql.errors import ConnectorError
from tests.server.slow_warehouse import count_generated

pytestmark = pytest.mark.engine("postgres")


def test_numeric_sums_come_back_as_int64_counts_and_float64_sums(postgres_connection: Any) -> None:
    dao = get("postgres").connect(connection=postgres_connection)
    # SUM(bigint) is NUMERIC in PostgreSQL: psycopg hands back Decimal.
    rows = dao.execute(
        "SELECT 'a' AS exp_variant_id, SUM(x) AS count, SUM(x * 0.5) AS sum_value, COUNT(*) AS n"
        " FROM (VALUES (1::bigint), (2::bigint), (4::bigint)) AS t(x)"
    )
    assert rows.to_dict("records") == [{"exp_variant_id": "a", "count": 7, "sum_value": 3.5, "n": 3}]
    assert [rows[c].dtype for c in ("count", "sum_value", "n")] == [np.int64, np.float64, np.int64]


def test_percent_signs_in_literals_reach_the_server_unchanged(postgres_connection: Any) -> None:
    dao = get("postgres").connect(connection=postgres_connection)
    rows = dao.execute("SELECT '50%_off' AS goal, '%s' AS unit_type, 'it''s' AS exp_id")
    assert rows.iloc[0].to_dict() == {"goal": "50%_off", "unit_type": "%s", "exp_id": "it's"}


def test_connect_with_a_dsn_opens_and_closes_its_own_connection(postgres_server: Any) -> None:
    dao = get("postgres").connect(postgres_server.dsn)
    assert dao.execute("SELECT 2 + 2 AS n")["n"].tolist() == [4]
    dao.close()
    assert dao.connection.closed  # type: ignore[attr-defined]


def test_borrowed_connection_stays_open(postgres_connection: Any) -> None:
    get("postgres").connect(connection=postgres_connection).close()
    assert not postgres_connection.closed


def test_refused_query_is_a_connector_error(postgres_connection: Any) -> None:
    dao = get("postgres").connect(connection=postgres_connection)
    with pytest.raises(ConnectorError, match="no_such_table"):
        dao.execute("SELECT * FROM no_such_table")


def test_unreachable_server_is_a_connector_error(postgres_server: Any) -> None:
    with pytest.raises(ConnectorError, match="cannot connect to postgres"):
        get("postgres").connect(
            f"host=127.0.0.1 port={postgres_server.port} user=nobody_here connect_timeout=3"
        )


def test_cancel_from_another_thread_cancels_the_query_in_the_server(postgres_server: Any) -> None:
    dao = get("postgres").connect(postgres_server.dsn)
    timer = threading.Timer(0.5, dao.cancel)  # type: ignore[attr-defined]
    timer.start()
    with pytest.raises(ConnectorError, match="canceling statement due to user request"):
        dao.execute(count_generated("postgres"))
    timer.join()
    assert dao.execute("SELECT 1 AS n")["n"].tolist() == [1]  # the connection serves on
    dao.close()
