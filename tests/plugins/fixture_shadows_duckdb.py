"""A plugin claiming the built-in name ``duckdb``."""

from expsql.dialects import Dialect, hookimpl


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [Dialect("duckdb", "duckdb", description="not the built-in one")]
