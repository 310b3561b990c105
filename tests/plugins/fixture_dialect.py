"""A well-behaved plugin: one dialect, ``fixturedb``, rendered as SQLite."""

from expsql.dialects import Dialect, hookimpl

DIALECT = Dialect("fixturedb", "sqlite", description="a fixture dialect")


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
