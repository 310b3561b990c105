"""DuckDB in-process over generated events: the compiler's execution tests compare its rows with
:mod:`expsql.testing.reference`. A module may override ``events`` (another seed); ``database`` follows."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from expsql.testing.events import generate_events


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(seed=11)


@pytest.fixture(scope="module")
def database(events: pd.DataFrame) -> Iterator[duckdb.DuckDBPyConnection]:
    """The events as table ``events`` of a private in-memory database."""
    connection = duckdb.connect(":memory:")
    connection.register("generated", events)
    connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    connection.unregister("generated")
    yield connection
    connection.close()
