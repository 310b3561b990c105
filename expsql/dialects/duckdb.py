"""DuckDB: the embedded default; runs in-process on a file, in memory, or on a given connection."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.base import Dialect
from expsql.dialects.frames import arrow_table, contract_frame, create_as_select_sql, drop_table_sql
from expsql.dialects.hookspecs import hookimpl
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    import duckdb


class DuckDBDao:
    """Runs SQL on a DuckDB connection; closes it only if it opened it."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, *, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned

    def execute(self, sql: str) -> pd.DataFrame:
        import duckdb

        try:
            frame = self.connection.execute(sql).fetch_df()
        except duckdb.Error as error:
            raise ConnectorError(f"duckdb refused the query: {error}") from error
        return contract_frame(frame)

    def cancel(self) -> None:
        """Interrupt the running query (DuckDB checks between chunks; idle, it is a no-op)."""
        self.connection.interrupt()

    def load_table(self, frame: pd.DataFrame, table: str, *, nan_as_null: bool = True) -> None:
        """Write ``frame`` as ``table`` (replacing it), its columns typed as :func:`arrow_table` says."""
        view = "expsql_load_frame"
        self.connection.register(view, arrow_table(frame, nan_as_null=nan_as_null))
        try:
            self.connection.execute(drop_table_sql(table, "duckdb"))
            self.connection.execute(create_as_select_sql(table, view, "duckdb"))
        finally:
            self.connection.unregister(view)

    def drop_table(self, table: str) -> None:
        self.connection.execute(drop_table_sql(table, "duckdb"))

    def publish(self, statements: list[str]) -> None:
        """Run ``statements`` in one transaction: all of them become visible together, or none."""
        import duckdb

        cursor = self.connection.cursor()  # its own transaction, beside any other of the connection
        try:
            cursor.execute("BEGIN TRANSACTION")
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("COMMIT")
        except duckdb.Error as error:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                cursor.execute("ROLLBACK")
            raise ConnectorError(f"duckdb refused the results: {error}") from error
        finally:
            cursor.close()

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect(
    target: str | None = None,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
    read_only: bool = False,
    **config: Any,
) -> DuckDBDao:
    """A Dao on the database file ``target`` (in memory when ``None``) or on ``connection``."""
    if connection is not None:
        return DuckDBDao(connection, owned=False)
    import duckdb

    database = target or ":memory:"
    return DuckDBDao(duckdb.connect(database, read_only=read_only, config=config))


DIALECT = Dialect(
    "duckdb",
    "duckdb",
    description="DuckDB, embedded (a file or in memory)",
    connector=connect,
    client="duckdb",
    native_prefix_match=True,
    can_cancel=True,
    can_load_tables=True,
    publish="transaction",
    incremental=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
