"""Trino / Presto / Athena: compile and review only (no connector here)."""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import approx_percentile

DIALECT = Dialect(
    "trino",
    "trino",
    description="Trino / Presto / Athena",
    native_prefix_match=True,
    percentile="approximate",
    percentile_function=approx_percentile,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
