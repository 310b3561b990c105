"""What a Spark Dao does the same on a local session and on a Spark Connect session: write and
drop tables, stop the session it owns, and say a Spark error in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from expsql.dialects.frames import arrow_table, drop_table_sql, table_node

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkTables:
    """A Spark session's tables: :meth:`load_table`, :meth:`list_tables`, :meth:`drop_table`;
    :meth:`close` stops the session only if the Dao started it."""

    def __init__(self, session: SparkSession, *, owned: bool = True) -> None:
        self.session = session
        self._owned = owned

    def load_table(self, frame: pd.DataFrame, table: str, *, nan_as_null: bool = True) -> None:
        """Write ``frame`` as the managed table ``table`` (``schema.table`` too), replacing it."""
        data = self.session.createDataFrame(arrow_table(frame, nan_as_null=nan_as_null))
        data.write.mode("overwrite").saveAsTable(table_node(table).sql("spark"))

    def list_tables(self, schema: str) -> list[str]:
        """The tables of ``schema`` (Spark has no ``information_schema``)."""
        return [table.name for table in self.session.catalog.listTables(schema)]

    def drop_table(self, table: str) -> None:
        self.session.sql(drop_table_sql(table, "spark")).collect()

    def close(self) -> None:
        if self._owned:
            self.session.stop()


def first_line(error: Exception) -> str:
    """A Spark error in one line (a Py4JJavaError's text is the whole Java stack trace)."""
    lines = [line for line in str(error).splitlines() if line.strip() and not line.startswith("\tat ")]
    return " ".join(lines[:2])
