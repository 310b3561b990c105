"""ClickHouse: a server through ``clickhouse-connect`` (``pip install 'expsql[clickhouse]'``), or
embedded through chdb (``pip install 'expsql[chdb]'``), which reads local files in-process.

``--connect``: ``http://host:8123`` or ``clickhouse://user@host:8123/database`` (a server; the
password from ``expsql.toml``'s ``password_env``), ``chdb:`` (embedded, in memory) or
``chdb:PATH`` (embedded, a database directory: tables persist there, and ``file('x.parquet')``
reads local files). A server query is cancelled with ``KILL QUERY`` on its query id; chdb cannot
cancel.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from expsql.dialects.base import Dialect
from expsql.dialects.frames import arrow_table, contract_frame, drop_table_sql, table_node
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import clickhouse_quantile_exact_inclusive
from expsql.errors import ConnectorError


def _create_memory_table(this: exp.Expression, select: exp.Expression | None = None) -> str:
    """``CREATE TABLE this ENGINE = Memory [AS select]``."""
    properties = exp.Properties(expressions=[exp.EngineProperty(this=exp.var("Memory"))])
    create = exp.Create(this=this, kind="TABLE", expression=select, properties=properties)
    return create.sql("clickhouse")


class ClickHouseDao:
    """Runs SQL on a ``clickhouse-connect`` client; each query has an id :meth:`cancel` kills."""

    def __init__(self, client: Any, *, owned: bool = True) -> None:
        self.client = client
        self._owned = owned
        self.query_id = ""

    def execute(self, sql: str) -> pd.DataFrame:
        self.query_id = f"expsql-{uuid.uuid4().hex}"
        try:
            frame = self.client.query_df(sql, settings={"query_id": self.query_id})
        except Exception as error:  # clickhouse-connect raises its own DatabaseError family
            raise ConnectorError(f"clickhouse refused the query: {error}") from error
        return contract_frame(frame)

    def cancel(self) -> None:
        """``KILL QUERY`` on the running query's id (a bound parameter); no-op when none ran."""
        if self.query_id:
            self.client.command("KILL QUERY WHERE query_id = {id:String}", parameters={"id": self.query_id})

    def load_table(self, frame: pd.DataFrame, table: str) -> None:
        """``table`` (Memory engine) with ``frame``'s columns, filled by an Arrow insert."""
        arrow = arrow_table(frame)
        columns = [
            exp.ColumnDef(
                this=exp.to_identifier(field.name, quoted=True),
                kind=exp.DataType.build(_TYPES[str(field.type)], dialect="clickhouse"),
            )
            for field in arrow.schema
        ]
        self.drop_table(table)
        self.client.command(_create_memory_table(exp.Schema(this=table_node(table), expressions=columns)))
        parts = table.split(".")
        self.client.insert_arrow(parts[-1], arrow, database=parts[0] if len(parts) > 1 else None)

    def drop_table(self, table: str) -> None:
        self.client.command(drop_table_sql(table, "clickhouse"))

    def close(self) -> None:
        if self._owned:
            self.client.close()


_TYPES = {
    "int64": "Nullable(Int64)",
    "double": "Nullable(Float64)",
    "date32[day]": "Nullable(Date32)",
    "timestamp[us]": "Nullable(DateTime64(6))",
    "string": "Nullable(String)",
}


class ChdbDao:
    """Runs SQL in-process on a chdb session (ClickHouse's engine as a library)."""

    def __init__(self, session: Any, *, owned: bool = True) -> None:
        self.session = session
        self._owned = owned
        self._files = Path(tempfile.mkdtemp(prefix="expsql-chdb-"))

    def execute(self, sql: str) -> pd.DataFrame:
        try:
            return contract_frame(self.session.query(sql, "DataFrame"))
        except Exception as error:  # chdb raises RuntimeError with ClickHouse's message
            raise ConnectorError(f"clickhouse (chdb) refused the query: {error}") from error

    def load_table(self, frame: pd.DataFrame, table: str) -> None:
        """``table`` (Memory engine) read from ``frame`` written as a Parquet file."""
        import pyarrow.parquet as pq

        parquet = self._files / f"{uuid.uuid4().hex}.parquet"
        pq.write_table(arrow_table(frame), parquet)
        reader = exp.Anonymous(
            this="file", expressions=[exp.Literal.string(str(parquet)), exp.Literal.string("Parquet")]
        )
        self.drop_table(table)
        self.session.query(_create_memory_table(table_node(table), exp.select(exp.Star()).from_(reader)))

    def drop_table(self, table: str) -> None:
        self.session.query(drop_table_sql(table, "clickhouse"))

    def close(self) -> None:
        if self._owned:
            self.session.close()


def connect(
    target: str | None = None, *, session: Any = None, client: Any = None, **options: Any
) -> ClickHouseDao | ChdbDao:
    """A Dao on ``target``: a server URL (clickhouse-connect) or ``chdb:[PATH]`` (embedded)."""
    if session is not None:
        return ChdbDao(session, owned=False)
    if client is not None:
        return ClickHouseDao(client, owned=False)
    if target is None or target.startswith("chdb:"):
        try:
            from chdb import session as chdb_session
        except ImportError:
            raise ConnectorError("embedded ClickHouse needs chdb: pip install 'expsql[chdb]'") from None
        path = (target or "chdb:").removeprefix("chdb:")
        return ChdbDao(chdb_session.Session(path) if path else chdb_session.Session())
    try:
        import clickhouse_connect
    except ImportError:
        raise ConnectorError(
            "a ClickHouse server needs clickhouse-connect: pip install 'expsql[clickhouse]'"
        ) from None
    return ClickHouseDao(clickhouse_connect.get_client(dsn=target, **options))


DIALECT = Dialect(
    "clickhouse",
    "clickhouse",
    description="ClickHouse (a server, or chdb embedded)",
    connector=connect,
    # No one client: clickhouse-connect for a server, chdb embedded; connect() names the missing one.
    extra="clickhouse",
    native_prefix_match=True,
    percentile_function=clickhouse_quantile_exact_inclusive,
    can_cancel=True,
    can_load_tables=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
