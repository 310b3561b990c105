"""Rows as the row contracts want them, whatever the engine handed back.

Engines return ``Decimal`` (PostgreSQL ``NUMERIC``, Spark ``DecimalType``), numpy scalars, 32-bit
integers or upper-case column names (Snowflake). :func:`contract_frame` turns any of them into
one shape: the contracts' lower-case column names, ``int64`` counts (``float64`` where a sum of
squares outgrows 64 bits) and ``float64`` sums.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlglot import exp

if TYPE_CHECKING:
    from sqlglot.dialects.dialect import DialectType

from expsql.contracts import GOAL_KEYS, GOAL_VALUES, METRIC_KEYS, METRIC_VALUES, TIMELINE_DAY, UNIT_KEYS

INTEGER_COLUMNS: Final = frozenset({"count", "sum_sqr_count", "count_unique", "n"})
FLOAT_COLUMNS: Final = frozenset(GOAL_VALUES + METRIC_VALUES) - INTEGER_COLUMNS
CONTRACT_COLUMNS: Final = frozenset(
    GOAL_KEYS + GOAL_VALUES + METRIC_KEYS + METRIC_VALUES + UNIT_KEYS + (TIMELINE_DAY,)
)
#: Integer columns at or beyond this magnitude stay float64 (``int64`` ends at 2^63).
INT64_LIMIT: Final = 2.0**63


def _plain_number(value: object) -> object:
    """A Python int or float for a ``Decimal``/numpy scalar, ``None`` for a missing value."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_float(series: pd.Series) -> pd.Series:
    if series.dtype == object:
        series = series.map(lambda v: np.nan if v is None else float(v))
    return pd.to_numeric(series).astype("float64")


def _as_integer(series: pd.Series) -> pd.Series:
    if series.dtype == object:
        series = series.map(_plain_number)
    numbers = pd.to_numeric(series)
    if numbers.isna().any() or numbers.dtype == object:  # object: Python ints beyond 64 bits
        return numbers.astype("float64")
    if numbers.dtype.kind == "f" and not np.all(np.mod(numbers.to_numpy(), 1) == 0):
        return numbers  # fractional counts (a non-integer cnt column) stay as they are
    if numbers.dtype.kind == "f" and not np.all(np.abs(numbers.to_numpy()) < INT64_LIMIT):
        return numbers  # a sum of squares beyond 64 bits, as the DOUBLE the query summed it in
    return numbers.astype("int64")


def _as_key(series: pd.Series) -> pd.Series:
    if series.dtype == object and series.map(lambda v: isinstance(v, Decimal | np.generic)).any():
        series = series.map(_plain_number)
        return pd.to_numeric(series) if series.map(lambda v: isinstance(v, int | float)).all() else series
    if series.dtype.kind in "iu":
        return series.astype("int64")
    return series


def contract_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with contract columns renamed to lower case and given the contract's types."""
    renames = {
        column: column.lower()
        for column in frame.columns
        if isinstance(column, str) and column.lower() in CONTRACT_COLUMNS and column != column.lower()
    }
    frame = frame.rename(columns=renames) if renames else frame.copy()
    for column in frame.columns:
        if column in INTEGER_COLUMNS:
            frame[column] = _as_integer(frame[column])
        elif column in FLOAT_COLUMNS:
            frame[column] = _as_float(frame[column])
        elif column in CONTRACT_COLUMNS:
            frame[column] = _as_key(frame[column])
    return frame.reset_index(drop=True)


def arrow_table(events: pd.DataFrame, *, nan_as_null: bool = True) -> pa.Table:
    """The events as an Arrow table with explicit types (strings, int64, float64, booleans,
        date32, and timestamps without a time zone); ``nan_as_null=False`` keeps NaN and ±inf in float
        columns as IEEE values instead of NULL, and types booleans and object columns of integers as
    such (the results tables, :mod:`expsql.results`); the default keeps the kit's loads as they were."""
    fields = []
    arrays = []
    for name in events.columns:
        column = events[name]
        if column.dtype.kind == "M":
            kind: pa.DataType = pa.timestamp("us")
        elif column.dtype.kind in "iu" or str(column.dtype) in {"Int64", "Int32"}:
            kind = pa.int64()
        elif column.dtype.kind == "f" or str(column.dtype) in {"Float64", "Float32"}:
            kind = pa.float64()
            if not nan_as_null and column.dtype.kind == "f":
                fields.append(pa.field(name, kind, nullable=True))
                arrays.append(pa.array(column.to_numpy(), type=kind))
                continue
        elif not nan_as_null and (
            column.dtype.kind == "b"
            or (
                column.notna().any()
                and column.dropna().map(lambda value: isinstance(value, bool | np.bool_)).all()
            )
        ):
            kind = pa.bool_()
        elif (
            not nan_as_null
            and column.notna().any()
            and column.dropna()
            .map(lambda value: isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_))
            .all()
        ):
            kind = pa.int64()
        elif column.dropna().map(lambda value: isinstance(value, dt.date)).all() and column.notna().any():
            kind = pa.date32()
        else:
            kind = pa.string()
        values = column.astype(object).where(column.notna(), None).tolist()
        fields.append(pa.field(name, kind, nullable=True))
        arrays.append(pa.array(values, type=kind))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def table_node(name: str) -> exp.Table:
    """``name`` (``table``, ``schema.table`` or ``catalog.schema.table``) as a quoted table node."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"table {name!r} must be 'table', 'schema.table' or 'catalog.schema.table'")
    table, db, catalog = [*reversed(parts), None, None][:3]
    return exp.table_(table, db=db, catalog=catalog, quoted=True)


def drop_table_sql(name: str, dialect: DialectType) -> str:
    """``DROP TABLE IF EXISTS name`` for ``dialect``."""
    return exp.Drop(tables=[table_node(name)], kind="TABLE", exists=True).sql(dialect)


def create_schema_sql(schema: str, dialect: DialectType) -> str:
    """``CREATE SCHEMA IF NOT EXISTS schema`` (``schema`` or ``catalog.schema``) for ``dialect``."""
    parts = schema.split(".")
    db = exp.to_identifier(parts[0], quoted=True) if len(parts) == 2 else None
    node = exp.Table(this=exp.to_identifier(parts[-1], quoted=True), db=db)
    return exp.Create(this=node, kind="SCHEMA", exists=True).sql(dialect)


def create_as_select_sql(name: str, relation: str, dialect: str) -> str:
    """``CREATE TABLE name AS SELECT * FROM relation`` (a registered view) for ``dialect``."""
    select = exp.select(exp.Star()).from_(exp.to_identifier(relation, quoted=True))
    return exp.Create(this=table_node(name), kind="TABLE", expression=select).sql(dialect)
