"""Spark Connect: a Spark SQL Dao on a remote session (``sc://host:15002``), which is also how
Databricks clusters and SQL warehouses are reached (a ``databricks-connect`` session is a Spark
Connect session). ``pip install 'expsql[spark]'`` brings the client (pyspark with grpcio and
zstandard).

A Spark Connect session has no ``sparkContext``, so no job groups: each Dao tags its operations
with a tag of its own, and :meth:`SparkConnectDao.cancel` interrupts the operations of that tag.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.frames import contract_frame
from expsql.dialects.spark_tables import SparkTables, first_line
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkConnectDao(SparkTables):
    """Runs SQL on a Spark Connect session; its operations carry the tag :attr:`tag`."""

    def __init__(self, session: SparkSession, *, owned: bool = True) -> None:
        super().__init__(session, owned=owned)
        self.tag = f"expsql-{uuid.uuid4().hex}"

    def execute(self, sql: str) -> pd.DataFrame:
        from pyspark.errors import PySparkException

        # A tag is a property of the calling thread's operations in this session.
        self.session.addTag(self.tag)
        try:
            result = self.session.sql(sql)
            columns = result.columns
            records = [tuple(row) for row in result.collect()]
        except PySparkException as error:  # an interrupted operation raises one too
            raise ConnectorError(f"spark refused the query: {first_line(error)}") from error
        finally:
            self.session.removeTag(self.tag)
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def cancel(self) -> None:
        """Interrupt this Dao's running operations on the server (no-op when none runs)."""
        self.session.interruptTag(self.tag)


def is_connect_session(session: object) -> bool:
    """Whether ``session`` is a Spark Connect session (it has no ``sparkContext``)."""
    return session is not None and type(session).__module__.startswith("pyspark.sql.connect")


def connect(
    target: str | None = None,
    *,
    session: SparkSession | None = None,
    config: dict[str, str] | None = None,
    **_: Any,
) -> SparkConnectDao:
    """A Dao on the Spark Connect ``session``, or on a new one to the server ``target``
    (``sc://host:port``, with ``/;token=...`` parameters as Spark Connect's URL allows)."""
    if session is not None:
        return SparkConnectDao(session, owned=False)
    try:
        # The Connect session class itself: pyspark's SparkSession.builder refuses a remote session
        # in a process that also runs a local one (SESSION_ALREADY_EXIST); this one does not.
        from pyspark.sql.connect.session import SparkSession
    except ImportError as error:
        raise ConnectorError(
            f"Spark Connect needs pyspark[connect]: {error}; pip install 'expsql[spark]'"
        ) from error
    remote = target or os.environ.get("SPARK_REMOTE")
    if not remote:
        raise ConnectorError("say which Spark Connect server: --connect sc://host:15002 (or SPARK_REMOTE)")
    builder = SparkSession.builder.remote(remote)
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    try:
        # create(), not getOrCreate(): a session of its own, which close() may stop.
        return SparkConnectDao(builder.create())  # type: ignore[arg-type]
    except Exception as error:  # a missing grpc or an unreachable server raise their own errors
        raise ConnectorError(f"cannot connect to Spark Connect at {target}: {first_line(error)}") from error
