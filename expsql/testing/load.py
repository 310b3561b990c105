"""Load one events DataFrame into each engine quickly, with the same column types everywhere.

DuckDB reads the DataFrame in place, PostgreSQL gets it through ``COPY``, Spark through Arrow.
Column types follow the pandas dtypes: strings, ``Int64`` → 64-bit integers, ``Float64`` →
doubles, dates → dates, ``datetime64`` → timestamps. Table and column names are composed as
identifiers, never as text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from expsql.dialects.frames import arrow_table

if TYPE_CHECKING:
    import sqlite3

    import duckdb
    import psycopg
    from pyspark.sql import SparkSession


def to_duckdb(connection: duckdb.DuckDBPyConnection, events: pd.DataFrame, table: str = "events") -> None:
    """``CREATE TABLE table`` from the events (replacing any table of that name)."""
    from expsql.dialects.duckdb import DuckDBDao

    DuckDBDao(connection, owned=False).load_table(events, table)


def to_postgres(connection: psycopg.Connection[Any], events: pd.DataFrame, table: str = "events") -> None:
    """``CREATE TABLE table`` and ``COPY`` the events into it (replacing any table of that name)."""
    from expsql.dialects.postgres import PostgresDao

    PostgresDao(connection, owned=False).load_table(events, table)


def to_spark(session: SparkSession, events: pd.DataFrame, table: str = "events") -> None:
    """Register the events as the temporary view ``table`` of the Spark session."""
    arrow = arrow_table(events)
    frame = session.createDataFrame(arrow)
    frame.cache().count()  # materialise once, so timed queries do not re-read the driver's data
    frame.createOrReplaceTempView(table)


def to_spark_parquet(
    session: SparkSession, events: pd.DataFrame, directory: Path, table: str = "events"
) -> None:
    """Write the events as Parquet files under ``directory / table`` and register them as the
    temporary view ``table``: Spark then plans a file scan whose ``ReadSchema`` shows the
    columns it reads (a cached DataFrame, :func:`to_spark`, shows none)."""
    import pyarrow.parquet as pq

    files = directory / table
    files.mkdir(parents=True)
    pq.write_table(arrow_table(events), files / "part-0.parquet")
    session.read.parquet(str(files)).createOrReplaceTempView(table)


def to_clickhouse(session: Any, events: pd.DataFrame, parquet: Path, table: str = "events") -> None:
    """``CREATE TABLE table ENGINE = Memory`` in a chdb session, through a Parquet file."""
    import pyarrow.parquet as pq
    from sqlglot import exp

    pq.write_table(arrow_table(events), parquet)
    name = exp.table_(exp.to_identifier(table, quoted=True))
    reader = exp.Anonymous(
        this="file", expressions=[exp.Literal.string(str(parquet)), exp.Literal.string("Parquet")]
    )
    create = exp.Create(
        this=name,
        kind="TABLE",
        expression=exp.select(exp.Star()).from_(reader),
        properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.var("Memory"))]),
    )
    session.query(exp.Drop(tables=[name], kind="TABLE", exists=True).sql("clickhouse"))
    session.query(create.sql("clickhouse"))


def clickhouse_rows(session: Any, sql: str) -> pd.DataFrame:
    """A query's rows from chdb, shaped like any Dao's (contract names and types)."""
    from expsql.dialects.frames import contract_frame

    return contract_frame(session.query(sql, "DataFrame"))


_SQLITE_TYPES = {
    pa.int64(): "INTEGER",
    pa.float64(): "REAL",
    pa.date32(): "TEXT",
    pa.timestamp("us"): "TEXT",
    pa.string(): "TEXT",
}


def _sqlite_value(value: object) -> object:
    """Dates and timestamps as the ISO text SQLite keeps them (``2024-03-01 12:00:00``)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return value.isoformat() if isinstance(value, dt.date) else value


def to_sqlite(connection: sqlite3.Connection, events: pd.DataFrame, table: str = "events") -> None:
    """``CREATE TABLE table`` in SQLite and insert the events (dates as ISO text, as SQLite keeps them)."""
    from sqlglot import exp

    arrow = arrow_table(events)
    name = exp.table_(exp.to_identifier(table, quoted=True))
    schema = exp.Schema(
        this=name,
        expressions=[
            exp.ColumnDef(
                this=exp.to_identifier(field.name, quoted=True),
                kind=exp.DataType.build(_SQLITE_TYPES[field.type]),
            )
            for field in arrow.schema
        ],
    )
    insert = exp.Insert(
        this=name, expression=exp.Values(expressions=[exp.tuple_(*[exp.Placeholder()] * arrow.num_columns)])
    )
    columns = [
        [_sqlite_value(value) for value in arrow.column(i).to_pylist()] for i in range(arrow.num_columns)
    ]
    connection.execute(exp.Drop(tables=[name], kind="TABLE", exists=True).sql("sqlite"))
    connection.execute(exp.Create(this=schema, kind="TABLE").sql("sqlite"))
    connection.executemany(insert.sql("sqlite"), zip(*columns, strict=True))
    connection.commit()
