"""PostgreSQL: runs through psycopg 3 (``pip install 'expsql[postgres]'``).

``starts_with`` exists since PostgreSQL 11; there is no approximate quantile aggregate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.base import Dialect
from expsql.dialects.frames import arrow_table, contract_frame
from expsql.dialects.hookspecs import hookimpl
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    import psycopg


_TYPES = {
    "int64": "bigint",
    "double": "double precision",
    "date32[day]": "date",
    "timestamp[us]": "timestamp",
    "string": "text",
    "bool": "boolean",
}


class PostgresDao:
    """Runs SQL on a psycopg connection; closes it only if it opened it."""

    def __init__(self, connection: psycopg.Connection[Any], *, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned

    def execute(self, sql: str) -> pd.DataFrame:
        import psycopg

        try:
            # No parameters: psycopg sends the text as-is, so a '%' in a literal stays a '%'.
            with self.connection.cursor() as cursor:
                cursor.execute(sql)
                columns = [column.name for column in cursor.description or ()]
                # A statement without rows (DDL, INSERT) returns an empty frame.
                records = cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as error:
            raise ConnectorError(f"postgres refused the query: {error}") from error
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def cancel(self) -> None:
        """Ask the server to cancel the running query (a cancel request on its own connection)."""
        # cancel_safe (psycopg 3.2+) bounds the wait and uses libpq 17's secure cancel where it can.
        cancel_safe = getattr(self.connection, "cancel_safe", None)
        if cancel_safe is not None:
            cancel_safe(timeout=5)
        else:
            self.connection.cancel()

    def load_table(self, frame: pd.DataFrame, table: str, *, nan_as_null: bool = True) -> None:
        """Write ``frame`` as ``table`` (``schema.table`` too), replacing it: ``CREATE TABLE``, ``COPY``."""
        from psycopg import sql

        arrow = arrow_table(frame, nan_as_null=nan_as_null)
        name = sql.Identifier(*table.split("."))
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(field.name), sql.SQL(_TYPES[str(field.type)]))
            for field in arrow.schema
        )
        names = sql.SQL(", ").join(sql.Identifier(field.name) for field in arrow.schema)
        with self.connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
            cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(name, columns))
            with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, names)) as copy:
                for row in zip(*(arrow.column(i).to_pylist() for i in range(arrow.num_columns)), strict=True):
                    copy.write_row(row)
            cursor.execute(sql.SQL("ANALYZE {}").format(name))

    def drop_table(self, table: str) -> None:
        from psycopg import sql

        with self.connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(*table.split("."))))

    def publish(self, statements: list[str]) -> None:
        """Run ``statements`` in one transaction: all of them become visible together, or none."""
        import psycopg

        try:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        except psycopg.Error as error:
            raise ConnectorError(f"postgres refused the results: {error}") from error

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect(
    target: str | None = None, *, connection: psycopg.Connection[Any] | None = None, **options: Any
) -> PostgresDao:
    """A Dao on the libpq connection string or URL ``target`` (``PG*`` variables when ``None``)."""
    if connection is not None:
        return PostgresDao(connection, owned=False)
    import psycopg

    try:
        return PostgresDao(psycopg.connect(target or "", autocommit=True, **options))
    except psycopg.Error as error:
        raise ConnectorError(f"cannot connect to postgres: {error}") from error


DIALECT = Dialect(
    "postgres",
    "postgres",
    description="PostgreSQL 11+",
    connector=connect,
    extra="postgres",
    client="psycopg",
    native_prefix_match=True,
    max_identifier_bytes=63,
    can_cancel=True,
    can_load_tables=True,
    publish="transaction",
    incremental=True,
    analyze_new_tables=True,
    refresh_lock="session",
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
