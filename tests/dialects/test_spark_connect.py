"""The Spark Connect Dao on a real Spark Connect server (pyspark's ``sbin/start-connect-server.sh``):
``--connect sc://...`` picks it, and ``cancel()`` interrupts the running query by its operation tag,
leaving the session usable. The conformance kit runs on it in ``tests/testing/``."""

from __future__ import annotations

import threading
import time

import pytest

from expsql.dialects import get
from expsql.dialects.spark_connect import SparkConnectDao
from expsql.errors import ConnectorError
from expsql.testing.engines import SparkConnectServer

pytestmark = pytest.mark.engine("spark-connect")

#: About 10^12 rows to count (no overflow under ANSI): minutes of work on two cores, unless cancelled.
SLOW = (
    "SELECT COUNT(*) AS n FROM range(1000000) AS a CROSS JOIN range(1000000) AS b WHERE (a.id + b.id) % 7 = 3"
)


def test_cancel_interrupts_the_running_query_by_its_tag(spark_connect_server: SparkConnectServer) -> None:
    dao = get("spark").connect(spark_connect_server.url)
    assert isinstance(dao, SparkConnectDao)
    dao.cancel()  # before any query: a no-op
    errors: list[ConnectorError] = []

    def run() -> None:
        try:
            dao.execute(SLOW)
        except ConnectorError as error:
            errors.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(5)
    assert worker.is_alive(), "the slow query ended before it was cancelled"
    cancelled = time.monotonic()
    dao.cancel()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled < 30
    assert len(errors) == 1 and "spark refused the query" in str(errors[0])
    assert dao.execute("SELECT 1 AS n")["n"].tolist() == [1]  # the session still serves
    dao.close()
