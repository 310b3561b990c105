"""A plugin claiming the name ``fixturedb`` with a different dialect than ``fixture_dialect``."""

from expsql.dialects import Dialect, hookimpl


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [Dialect("fixturedb", "postgres", description="an impostor")]
