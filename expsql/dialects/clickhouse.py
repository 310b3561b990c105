"""ClickHouse: compile and review only (no connector here)."""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import clickhouse_quantile_exact_inclusive

DIALECT = Dialect(
    "clickhouse",
    "clickhouse",
    description="ClickHouse",
    native_prefix_match=True,
    percentile_function=clickhouse_quantile_exact_inclusive,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
