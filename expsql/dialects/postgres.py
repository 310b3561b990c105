"""PostgreSQL: runs through psycopg 3 (``pip install 'expsql[postgres]'``).

``starts_with`` exists since PostgreSQL 11; there is no approximate quantile aggregate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.base import Dialect
from expsql.dialects.frames import contract_frame
from expsql.dialects.hookspecs import hookimpl
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    import psycopg


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
                records = cursor.fetchall()
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
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
