"""Databricks SQL: runs on a Databricks cluster or SQL warehouse through Spark Connect, the protocol
``databricks-connect`` speaks (``pip install 'expsql[spark]' databricks-connect``).

``--connect sc://HOST:443/;token=...;x-databricks-cluster-id=...`` is a Spark Connect URL (keep the
token out of the command line: put the URL in ``SPARK_REMOTE``); without ``--connect``,
``databricks-connect``'s ``DatabricksSession`` reads its own configuration (``DATABRICKS_HOST``,
``DATABRICKS_TOKEN``, ``DATABRICKS_CLUSTER_ID`` or ``DATABRICKS_SERVERLESS_COMPUTE_ID=auto``, or a
profile of ``~/.databrickscfg`` named by ``profile``). Queries are cancelled by operation tag.
"""

from __future__ import annotations

import os
from typing import Any

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import spark_percentile
from expsql.errors import ConnectorError


def connect(target: str | None = None, *, session: Any = None, profile: str | None = None, **_: Any) -> Any:
    """A Spark Connect Dao on ``session``, the URL ``target`` or ``SPARK_REMOTE``, or a
    ``DatabricksSession`` built from databricks-connect's configuration."""
    from expsql.dialects import spark_connect

    if session is not None or target or os.environ.get("SPARK_REMOTE"):
        return spark_connect.connect(target, session=session)
    try:
        from databricks.connect import DatabricksSession
    except ImportError:
        raise ConnectorError(
            "Databricks needs --connect sc://... (or SPARK_REMOTE), or databricks-connect: "
            "pip install databricks-connect"
        ) from None
    builder = DatabricksSession.builder
    if profile:
        builder = builder.profile(profile)
    return spark_connect.SparkConnectDao(builder.getOrCreate())


DIALECT = Dialect(
    "databricks",
    "databricks",
    description="Databricks SQL (through Spark Connect)",
    connector=connect,
    extra="spark",
    client="pyspark",
    native_prefix_match=True,
    percentile_function=spark_percentile,
    can_cancel=True,
    can_load_tables=True,
    incremental=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
