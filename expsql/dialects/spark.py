"""Spark SQL: runs through a pyspark ``SparkSession`` (``pip install 'expsql[spark]'``): local or a
cluster master, or a Spark Connect server (``sc://host:15002``, :mod:`expsql.dialects.spark_connect`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.base import Dialect
from expsql.dialects.frames import contract_frame
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import spark_percentile
from expsql.dialects.spark_tables import SparkTables, first_line
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from expsql.dialects.spark_connect import SparkConnectDao


class SparkDao(SparkTables):
    """Runs SQL with ``spark.sql``; stops the session only if it started it.

    Its jobs run in a job group of their own, so :meth:`cancel` stops this Dao's query and no
    other query of a shared session.
    """

    def __init__(self, session: SparkSession, *, owned: bool = True) -> None:
        super().__init__(session, owned=owned)
        self.job_group = f"expsql-{uuid.uuid4().hex}"

    def execute(self, sql: str) -> pd.DataFrame:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        context = self.session.sparkContext
        # The group is a property of the calling thread (pyspark pins Python threads to JVM threads);
        # interruptOnCancel interrupts the tasks' threads too, so a cancelled job frees its cores.
        context.setJobGroup(self.job_group, "expsql evaluation", interruptOnCancel=True)
        try:
            result = self.session.sql(sql)
            columns = result.columns
            # Rows rather than toPandas(): no dependency on Arrow settings or pandas versions.
            records = [tuple(row) for row in result.collect()]
        except (PySparkException, Py4JJavaError) as error:  # a cancelled job is a Py4JJavaError
            raise ConnectorError(f"spark refused the query: {first_line(error)}") from error
        finally:
            context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def cancel(self) -> None:
        """Cancel the jobs of this Dao's query (its job group); no-op when none runs."""
        self.session.sparkContext.cancelJobGroup(self.job_group)


def connect(
    target: str | None = None,
    *,
    session: SparkSession | None = None,
    config: dict[str, str] | None = None,
    **_: Any,
) -> SparkDao | SparkConnectDao:
    """A Dao on ``session``, on the Spark Connect server ``target`` (``sc://host:15002``), or on a
    new session whose master is ``target`` (``local[*]`` by default)."""
    from expsql.dialects import spark_connect

    if spark_connect.is_connect_session(session) or (target or "").startswith("sc://"):
        return spark_connect.connect(target, session=session, config=config)
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
    can_cancel=True,
    can_load_tables=True,
    publish="marker",
    incremental=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
