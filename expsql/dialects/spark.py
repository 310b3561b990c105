"""Spark SQL: runs through a pyspark ``SparkSession`` (``pip install 'expsql[spark]'``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.base import Dialect
from expsql.dialects.frames import contract_frame
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import spark_percentile
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkDao:
    """Runs SQL with ``spark.sql``; stops the session only if it started it."""

    def __init__(self, session: SparkSession, *, owned: bool = True) -> None:
        self.session = session
        self._owned = owned

    def execute(self, sql: str) -> pd.DataFrame:
        from pyspark.errors import PySparkException

        try:
            result = self.session.sql(sql)
            columns = result.columns
            # Rows rather than toPandas(): no dependency on Arrow settings or pandas versions.
            records = [tuple(row) for row in result.collect()]
        except PySparkException as error:
            raise ConnectorError(f"spark refused the query: {error}") from error
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def close(self) -> None:
        if self._owned:
            self.session.stop()


def connect(
    target: str | None = None,
    *,
    session: SparkSession | None = None,
    config: dict[str, str] | None = None,
    **_: Any,
) -> SparkDao:
    """A Dao on ``session``, or on a new session whose master is ``target`` (``local[*]`` by default)."""
    if session is not None:
        return SparkDao(session, owned=False)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(target or "local[*]").appName("expsql")
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    return SparkDao(builder.getOrCreate())


DIALECT = Dialect(
    "spark",
    "spark",
    description="Apache Spark SQL 3.3+",
    connector=connect,
    extra="spark",
    client="pyspark",
    native_prefix_match=True,
    percentile_function=spark_percentile,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
