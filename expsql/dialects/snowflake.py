"""Snowflake: compile and review only (no connector here)."""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl

DIALECT = Dialect("snowflake", "snowflake", description="Snowflake", native_prefix_match=True)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
