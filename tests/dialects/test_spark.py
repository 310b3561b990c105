"""The Spark Dao on the session's local Spark: Decimal and Row results, errors, borrowed sessions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from expsql.dialects import get
from expsql.errors import ConnectorError

pytestmark = pytest.mark.engine("spark")


def test_decimal_and_long_results_come_back_as_contract_types(spark_session: Any) -> None:
    dao = get("spark").connect(session=spark_session)
    rows = dao.execute(
        "SELECT 'a' AS exp_variant_id, SUM(x) AS count, SUM(CAST(x AS DECIMAL(10, 2)) / 4) AS sum_x,"
        " COUNT(*) AS n FROM VALUES (1), (2), (4) AS t(x)"
    )
    assert rows.to_dict("records") == [{"exp_variant_id": "a", "count": 7, "sum_x": 1.75, "n": 3}]
    assert [rows[c].dtype for c in ("count", "sum_x", "n")] == [np.int64, np.float64, np.int64]


def test_backslashes_and_quotes_survive_spark_string_literals(spark_session: Any) -> None:
    dao = get("spark").connect(session=spark_session)
    rows = dao.execute(r"SELECT 'back\\slash' AS goal, 'it\'s' AS exp_id")
    assert rows.iloc[0].to_dict() == {"goal": "back\\slash", "exp_id": "it's"}


def test_refused_query_is_a_connector_error_and_session_stays_up(spark_session: Any) -> None:
    dao = get("spark").connect(session=spark_session)
    with pytest.raises(ConnectorError, match="spark refused the query"):
        dao.execute("SELECT * FROM no_such_table")
    dao.close()
    assert spark_session.sql("SELECT 1 AS n").collect()[0]["n"] == 1
