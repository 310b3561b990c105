"""A plugin whose hook raises when called."""

from expsql.dialects import Dialect, hookimpl


@hookimpl
def expsql_dialects() -> list[Dialect]:
    raise RuntimeError("the fixture plugin's configuration is missing")
