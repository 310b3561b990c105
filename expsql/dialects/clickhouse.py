"""ClickHouse: compile and review only (no connector here)."""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl

DIALECT = Dialect(
    "clickhouse", "clickhouse", description="ClickHouse", native_prefix_match=True, approx_quantiles=False
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
