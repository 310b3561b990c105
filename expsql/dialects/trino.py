"""Trino / Presto / Athena: runs on Trino through the ``trino`` client (``pip install 'expsql[trino]'``).

``--connect`` is the coordinator's URL (``https://trino.example.com:443``); ``expsql.toml``'s
``[connectors.trino]`` gives ``user``, ``catalog``, ``schema`` and ``password_env`` (basic
authentication over HTTPS); other options go to ``trino.dbapi.connect`` as they are. A running
query is cancelled through its cursor (``DELETE`` of the query on the coordinator).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from sqlglot import exp

from expsql.dialects.base import Dialect
from expsql.dialects.frames import arrow_table, contract_frame, drop_table_sql, table_node
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import approx_percentile
from expsql.errors import ConnectorError

_TYPES = {
    "int64": "BIGINT",
    "double": "DOUBLE",
    "date32[day]": "DATE",
    "timestamp[us]": "TIMESTAMP(6)",
    "string": "VARCHAR",
}


class TrinoDao:
    """Runs SQL on a ``trino.dbapi`` connection; :meth:`cancel` cancels the running cursor."""

    def __init__(self, connection: Any, *, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned
        self.cursor: Any = None

    def _run(self, sql: str, parameters: list[Any] | None = None) -> tuple[list[str], list[Any]]:
        import trino

        self.cursor = self.connection.cursor()
        try:
            self.cursor.execute(sql, parameters)
            records = self.cursor.fetchall()
            return [column[0] for column in self.cursor.description or ()], records
        except (trino.exceptions.Error, trino.exceptions.HttpError, OSError) as error:  # OSError: unreachable
            raise ConnectorError(f"trino refused the query: {error}") from error

    def execute(self, sql: str) -> pd.DataFrame:
        columns, records = self._run(sql)
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def cancel(self) -> None:
        if self.cursor is not None:
            self.cursor.cancel()

    def load_table(self, frame: pd.DataFrame, table: str) -> None:
        """``CREATE TABLE`` with ``frame``'s columns, filled by ``INSERT`` with bound ``?`` parameters."""
        arrow = arrow_table(frame)
        columns = [
            exp.ColumnDef(
                this=exp.to_identifier(field.name, quoted=True),
                kind=exp.DataType.build(_TYPES[str(field.type)], dialect="trino"),
            )
            for field in arrow.schema
        ]
        self.drop_table(table)
        self._run(
            exp.Create(this=exp.Schema(this=table_node(table), expressions=columns), kind="TABLE").sql(
                "trino"
            )
        )
        insert = exp.insert(
            exp.Values(expressions=[exp.tuple_(*(exp.Placeholder() for _ in arrow.schema))]),
            table_node(table),
        ).sql("trino")
        for row in zip(*(arrow.column(i).to_pylist() for i in range(arrow.num_columns)), strict=True):
            self._run(insert, list(row))

    def drop_table(self, table: str) -> None:
        self._run(drop_table_sql(table, "trino"))

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect(target: str | None = None, *, connection: Any = None, **options: Any) -> TrinoDao:
    """A Dao on the coordinator URL ``target`` (``http[s]://host:port``), or on ``connection``."""
    if connection is not None:
        return TrinoDao(connection, owned=False)
    import trino

    if target:
        url = urlsplit(target if "://" in target else f"http://{target}")
        options.setdefault("host", url.hostname)
        options.setdefault("port", url.port or (443 if url.scheme == "https" else 8080))
        options.setdefault("http_scheme", url.scheme)
    password = options.pop("password", None)
    if password is not None:
        options["auth"] = trino.auth.BasicAuthentication(options.get("user", ""), password)
    return TrinoDao(trino.dbapi.connect(**options))


DIALECT = Dialect(
    "trino",
    "trino",
    description="Trino / Presto / Athena",
    connector=connect,
    extra="trino",
    client="trino",
    native_prefix_match=True,
    percentile="approximate",
    percentile_function=approx_percentile,
    can_cancel=True,
    can_load_tables=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
