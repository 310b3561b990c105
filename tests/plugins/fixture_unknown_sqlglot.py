"""A plugin whose dialect names a sqlglot dialect that does not exist."""

from expsql.dialects import Dialect, hookimpl


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [Dialect("nosuchsql", "no_such_sqlglot_dialect")]
