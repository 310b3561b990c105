"""Redshift: runs through ``redshift-connector`` (``pip install 'expsql[redshift]'``).

Redshift has no prefix function, so sqlglot renders ``exp.StartsWith`` as ``LIKE 'x' || '%'``
without escaping ``%`` and ``_``: the compiler builds its own prefix test.

``--connect`` is the cluster's host (``examplecluster.abc123.us-west-2.redshift.amazonaws.com``);
``expsql.toml``'s ``[connectors.redshift]`` gives ``database``, ``user``, ``port`` and
``password_env`` (or IAM options, passed to ``redshift_connector.connect`` as they are).
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
    "int64": "BIGINT",
    "double": "DOUBLE PRECISION",
    "date32[day]": "DATE",
    "timestamp[us]": "TIMESTAMP",
    "string": "VARCHAR(MAX)",
}


class RedshiftDao:
    """Runs SQL on a ``redshift_connector`` connection (autocommit); closes it only if it opened it."""

    def __init__(self, connection: Any, *, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned

    def execute(self, sql: str) -> pd.DataFrame:
        import redshift_connector

        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            columns = [column[0] for column in cursor.description or ()]
            records = cursor.fetchall()
        except redshift_connector.Error as error:
            raise ConnectorError(f"redshift refused the query: {error}") from error
        finally:
            cursor.close()
        return contract_frame(pd.DataFrame.from_records(list(records), columns=columns))

    def load_table(self, frame: pd.DataFrame, table: str) -> None:
        """``CREATE TABLE`` with ``frame``'s columns, filled by a bound ``INSERT`` (``%s`` parameters)."""
        arrow = arrow_table(frame)
        columns = [
            exp.ColumnDef(
                this=exp.to_identifier(field.name, quoted=True),
                kind=exp.DataType.build(_TYPES[str(field.type)], dialect="redshift"),
            )
            for field in arrow.schema
        ]
        create = exp.Create(this=exp.Schema(this=table_node(table), expressions=columns), kind="TABLE")
        values = exp.Values(expressions=[exp.tuple_(*(exp.var("%s") for _ in arrow.schema))])
        rows = [
            list(row)
            for row in zip(*(arrow.column(i).to_pylist() for i in range(arrow.num_columns)), strict=True)
        ]
        self.drop_table(table)
        cursor = self.connection.cursor()
        try:
            cursor.execute(create.sql("redshift"))
            cursor.executemany(exp.insert(values, table_node(table)).sql("redshift"), rows)
        finally:
            cursor.close()

    def drop_table(self, table: str) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(drop_table_sql(table, "redshift"))
        finally:
            cursor.close()

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect(target: str | None = None, *, connection: Any = None, **options: Any) -> RedshiftDao:
    """A Dao on the cluster host ``target`` (or ``host`` in the options), or on ``connection``."""
    if connection is not None:
        return RedshiftDao(connection, owned=False)
    import redshift_connector

    if target:
        options["host"] = target
    try:
        opened = redshift_connector.connect(**options)
    except redshift_connector.Error as error:
        raise ConnectorError(f"cannot connect to redshift: {error}") from error
    opened.autocommit = True
    return RedshiftDao(opened)


DIALECT = Dialect(
    "redshift",
    "redshift",
    description="Amazon Redshift",
    connector=connect,
    extra="redshift",
    client="redshift_connector",
    native_prefix_match=False,
    max_identifier_bytes=127,
    can_load_tables=True,
    incremental=True,
    analyze_new_tables=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
