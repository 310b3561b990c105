"""Databricks SQL: compile and review only (no connector here)."""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import spark_percentile

DIALECT = Dialect(
    "databricks",
    "databricks",
    description="Databricks SQL",
    native_prefix_match=True,
    percentile_function=spark_percentile,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
