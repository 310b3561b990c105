"""An expsql dialect plugin: SQLite, run through the standard library's ``sqlite3``.

The whole plugin is this module and one entry point in ``pyproject.toml``:

    [project.entry-points.expsql]
    sqlite = "expsql_dialect_sqlite"
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pandas as pd
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite

from expsql.dialects import Dialect, hookimpl
from expsql.dialects.frames import contract_frame
from expsql.errors import ConnectorError


class ExpsqlSQLite(SQLite):
    """sqlglot's SQLite, except that ``(VALUES ...) AS t(a, b)`` becomes ``SELECT ... UNION ALL``
    and ``ts + INTERVAL n SECOND`` becomes ``DATETIME(ts, '+n seconds')``.

    SQLite cannot name the columns of a ``VALUES`` table in its alias, which expsql's queries do,
    and has no interval type: its timestamps are ISO text, shifted by ``DATETIME``'s modifiers.
    Both found by the conformance kit (``expsql.testing``).
    """

    class Generator(SQLite.Generator):
        VALUES_AS_TABLE = False

        def _shifted(self, expression: exp.Binary, sign: int) -> str | None:
            interval = expression.expression
            if not isinstance(interval, exp.Interval) or not interval.this.is_number:
                return None
            amount = sign * float(interval.this.name)
            number = str(int(amount)) if amount.is_integer() else repr(amount)
            unit = interval.text("unit").lower() or "second"
            modifier = exp.Literal.string(f"{'+' if amount >= 0 else ''}{number} {unit}s")
            return self.func("DATETIME", expression.this, modifier)

        def add_sql(self, expression: exp.Add) -> str:
            return self._shifted(expression, 1) or super().add_sql(expression)

        def sub_sql(self, expression: exp.Sub) -> str:
            return self._shifted(expression, -1) or super().sub_sql(expression)


class SQLiteDao:
    """Runs SQL on a ``sqlite3`` connection; closes it only if it opened it."""

    def __init__(self, connection: sqlite3.Connection, *, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned
        # expsql's "starts with" is case-sensitive; SQLite's LIKE is not, unless told so.
        connection.execute("PRAGMA case_sensitive_like = ON")

    def execute(self, sql: str) -> pd.DataFrame:
        try:
            cursor = self.connection.execute(sql)
        except sqlite3.Error as error:
            raise ConnectorError(f"sqlite refused the query: {error}") from error
        columns = [description[0] for description in cursor.description]
        return contract_frame(pd.DataFrame.from_records(cursor.fetchall(), columns=columns))

    def load_table(self, frame: pd.DataFrame, table: str) -> None:
        """Write ``frame`` as ``table``, replacing it (pandas binds every value as a parameter;
        dates and timestamps become the ISO text SQLite keeps them as)."""
        frame.to_sql(table, self.connection, if_exists="replace", index=False)

    def drop_table(self, table: str) -> None:
        drop = exp.Drop(tables=[exp.to_table(table, dialect="sqlite")], kind="TABLE", exists=True)
        self.connection.execute(drop.sql("sqlite"))

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect(
    target: str | None = None, *, connection: sqlite3.Connection | None = None, **options: Any
) -> SQLiteDao:
    """A Dao on the database file ``target`` (in memory when ``None``) or on ``connection``."""
    if connection is not None:
        return SQLiteDao(connection, owned=False)
    return SQLiteDao(sqlite3.connect(target or ":memory:", **options))


DIALECT = Dialect(
    "sqlite",
    ExpsqlSQLite,
    description="SQLite 3, through the standard library",
    connector=connect,
    native_prefix_match=False,  # no prefix function: expsql builds an escaped LIKE instead
    percentile="none",  # no percentile function: winsorized metrics are evaluated from unit rows
    can_load_tables=True,  # SQLiteDao.load_table: the conformance kit writes its tables through it
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
