"""Snowflake: runs through ``snowflake-connector-python`` (``pip install 'expsql[snowflake]'``).

``--connect`` is the account identifier (``myorg-myaccount``); the rest comes from ``expsql.toml``'s
``[connectors.snowflake]``: ``user``, ``warehouse``, ``database``, ``schema``, ``role``, and either
``password_env`` or ``private_key_file`` (with ``private_key_file_pwd_env``) for key-pair
authentication; any other option goes to ``snowflake.connector.connect`` as it is (``host``,
``port``, ``protocol`` reach a proxy or, in the tests, fakesnow's server). A running query is
cancelled with ``SYSTEM$CANCEL_QUERY`` on its query id.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlglot import exp

from expsql.dialects.base import Dialect
from expsql.dialects.frames import arrow_table, contract_frame, drop_table_sql, table_node
from expsql.dialects.hookspecs import hookimpl
from expsql.errors import ConnectorError

_TYPES = {
    "int64": "NUMBER(38, 0)",
    "double": "DOUBLE",
    "date32[day]": "DATE",
    "timestamp[us]": "TIMESTAMP_NTZ",
    "string": "VARCHAR",
}


class SnowflakeDao:
    """Runs SQL on a Snowflake connection; closes it only if it opened it."""

    def __init__(self, connection: Any, *, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned
        self.query_id: str | None = None

    def execute(self, sql: str) -> pd.DataFrame:
        from snowflake.connector.errors import Error

        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, _no_results=False)
            self.query_id = cursor.sfqid
            columns = [column[0] for column in cursor.description or ()]
            records = cursor.fetchall()
        except Error as error:
            raise ConnectorError(f"snowflake refused the query: {error}") from error
        finally:
            cursor.close()
        # Snowflake returns unquoted names upper-cased: contract_frame lower-cases the contract's.
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def cancel(self) -> None:
        """``SYSTEM$CANCEL_QUERY`` on the last query's id (a bound parameter); no-op before one."""
        if self.query_id is not None:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT SYSTEM$CANCEL_QUERY(%s)", (self.query_id,))

    def load_table(self, frame: pd.DataFrame, table: str) -> None:
        """``CREATE OR REPLACE TABLE`` with ``frame``'s columns, filled by a bound ``INSERT``."""
        arrow = arrow_table(frame)
        columns = [
            exp.ColumnDef(
                this=exp.to_identifier(field.name, quoted=True),
                kind=exp.DataType.build(_TYPES[str(field.type)], dialect="snowflake"),
            )
            for field in arrow.schema
        ]
        create = exp.Create(
            this=exp.Schema(this=table_node(table), expressions=columns), kind="TABLE", replace=True
        )
        # pyformat's %s (the connector's default paramstyle): it binds each value itself.
        placeholders = exp.tuple_(*(exp.var("%s") for _ in arrow.schema))
        insert = exp.insert(exp.Values(expressions=[placeholders]), table_node(table)).sql("snowflake")
        rows = list(zip(*(arrow.column(i).to_pylist() for i in range(arrow.num_columns)), strict=True))
        with self.connection.cursor() as cursor:
            cursor.execute(create.sql("snowflake"))
            cursor.executemany(insert, rows)

    def drop_table(self, table: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(drop_table_sql(table, "snowflake"))

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect(target: str | None = None, *, connection: Any = None, **options: Any) -> SnowflakeDao:
    """A Dao on the account ``target`` (or ``account`` in the options), or on ``connection``."""
    if connection is not None:
        return SnowflakeDao(connection, owned=False)
    import snowflake.connector

    if target:
        options["account"] = target
    if "private_key_file" in options and "password" not in options:
        options.setdefault("authenticator", "SNOWFLAKE_JWT")
    try:
        return SnowflakeDao(snowflake.connector.connect(**options))
    except snowflake.connector.errors.Error as error:
        raise ConnectorError(f"cannot connect to snowflake: {error}") from error


DIALECT = Dialect(
    "snowflake",
    "snowflake",
    description="Snowflake",
    connector=connect,
    extra="snowflake",
    client="snowflake.connector",
    native_prefix_match=True,
    # Larger statements run, but Snowflake cuts their text to 1 MB in its history: no rerun, no retry.
    max_query_bytes=1_000_000,
    can_cancel=True,
    can_load_tables=True,
    incremental=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
