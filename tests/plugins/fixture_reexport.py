"""A plugin that hands back the very dialect object another plugin registered (a no-op)."""

from fixture_dialect import DIALECT

from expsql.dialects import Dialect, hookimpl


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
