"""A plugin whose hook implementation is misspelled (``expsql_dialect`` without the s)."""

from expsql.dialects import Dialect, hookimpl


@hookimpl
def expsql_dialect() -> list[Dialect]:
    return [Dialect("misspelled", "duckdb")]
