"""Snowflake: compile and review only (no connector here)."""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl

DIALECT = Dialect(
    "snowflake",
    "snowflake",
    description="Snowflake",
    native_prefix_match=True,
    # Larger statements run, but Snowflake cuts their text to 1 MB in its history: no rerun, no retry.
    max_query_bytes=1_000_000,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
