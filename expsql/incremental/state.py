"""Where an experiment's state lives: its versioned tables and the record of the current version.

The state schema holds, per experiment, the tables the current version reads (its base and recent
tables, :class:`Tiers`: ``expsql_state_<key>_v<N>_<part>_<tier>``, ``key`` a short hash of the
experiment id, so any id makes a valid name of at most 63 bytes) and one table shared by all
experiments, ``expsql_state``: an append-only record, one row per refresh that completed. The
current version of an experiment is its row of the highest version. Appending that row is the
refresh's one atomic step: a single-row ``INSERT`` commits whole on every warehouse, so a reader
sees either the old version or the new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Final

import pandas as pd
from sqlglot import exp

from expsql.dialects import Dao, Dialect
from expsql.dialects.frames import table_node

#: The record of every experiment's versions, in the state schema.
RECORD_TABLE: Final = "expsql_state"

#: The record's columns and their types.
RECORD_COLUMNS: Final[dict[str, str]] = {
    "experiment": "TEXT",
    "state_version": "BIGINT",
    "base_version": "BIGINT",
    "settled_until": "TIMESTAMP",
    "plan_hash": "TEXT",
    "expsql_version": "TEXT",
    "refreshed_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class StateRecord:
    """One completed refresh: what the state of ``state_version`` holds.

    :param base_version: the version whose base tables this version reads (:class:`Tiers`).
    :param settled_until: the state holds every event before this moment (the watermark).
    :param plan_hash: the hash of the statements that build the state (:mod:`.plans`): another
        experiment definition, source or layout of the state gives another hash.
    """

    experiment: str
    state_version: int
    base_version: int
    settled_until: dt.datetime
    plan_hash: str
    expsql_version: str
    refreshed_at: dt.datetime

    @property
    def tiers(self) -> Tiers:
        return Tiers(self.state_version, self.base_version)


@dataclass(frozen=True)
class StateTables:
    """The names of one experiment's state tables in ``schema``."""

    schema: str
    experiment: str

    @property
    def key(self) -> str:
        return hashlib.sha256(self.experiment.encode()).hexdigest()[:12]

    @property
    def record(self) -> str:
        return f"{self.schema}.{RECORD_TABLE}"

    def table(self, version: int, part: str) -> str:
        """The table of ``part`` (``exposures_base``, ``events_0_recent``, ...) in ``version``."""
        return f"{self.schema}.expsql_state_{self.key}_v{version}_{part}"


@dataclass(frozen=True)
class Tiers:
    """Which tables one version of the state reads, per input: its **base**, written by the
    version ``base_version`` (every few refreshes the base is rewritten whole), and, when the
    version is not that one, its own **recent** table: what was settled since the base, rewritten
    each refresh. A refresh then rewrites only what is recent, not the whole state."""

    version: int
    base_version: int

    def tables(self, tables: StateTables, part: str) -> list[str]:
        names = [tables.table(self.base_version, f"{part}_base")]
        if self.version != self.base_version:
            names.append(tables.table(self.version, f"{part}_recent"))
        return names

    def unused_by(self, other: Tiers, tables: StateTables, parts: list[str]) -> list[str]:
        """This version's tables that ``other`` does not read."""
        kept = {name for part in parts for name in other.tables(tables, part)}
        return [name for part in parts for name in self.tables(tables, part) if name not in kept]


def create_record_sql(tables: StateTables, dialect: Dialect) -> str:
    """``CREATE TABLE IF NOT EXISTS`` the record."""
    columns = [
        exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=exp.DataType.build(kind))
        for name, kind in RECORD_COLUMNS.items()
    ]
    schema = exp.Schema(this=table_node(tables.record), expressions=columns)
    return dialect.render(exp.Create(this=schema, kind="TABLE", exists=True), pretty=False)


def current_record_sql(tables: StateTables, dialect: Dialect, rows: int = 1) -> str:
    """The experiment's rows of the highest versions (``rows`` of them), latest first."""
    query = (
        exp.Select()
        .select(*(exp.column(name, quoted=True) for name in RECORD_COLUMNS), copy=False)
        .from_(table_node(tables.record), copy=False)
        .where(
            exp.EQ(
                this=exp.column("experiment", quoted=True), expression=exp.Literal.string(tables.experiment)
            )
        )
        .order_by(exp.Ordered(this=exp.column("state_version", quoted=True), desc=True), copy=False)
        .limit(rows, copy=False)
    )
    return dialect.render(query, pretty=False)


def timestamp_value(moment: dt.datetime) -> exp.Expression:
    """A naive UTC timestamp as a typed literal."""
    return exp.Cast(this=exp.Literal.string(moment.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))


def append_record_sql(tables: StateTables, record: StateRecord, dialect: Dialect) -> str:
    """The one-row ``INSERT`` that makes ``record``'s version current."""
    values = exp.Tuple(
        expressions=[
            exp.Literal.string(record.experiment),
            exp.Literal.number(record.state_version),
            exp.Literal.number(record.base_version),
            timestamp_value(record.settled_until),
            exp.Literal.string(record.plan_hash),
            exp.Literal.string(record.expsql_version),
            timestamp_value(record.refreshed_at),
        ]
    )
    insert = exp.Insert(
        this=exp.Schema(
            this=table_node(tables.record),
            expressions=[exp.to_identifier(name, quoted=True) for name in RECORD_COLUMNS],
        ),
        expression=exp.Values(expressions=[values]),
    )
    return dialect.render(insert, pretty=False)


def read_records(dao: Dao, tables: StateTables, dialect: Dialect, rows: int = 2) -> list[StateRecord]:
    """The experiment's latest records, latest first (none: it has no state yet)."""
    frame = dao.execute(current_record_sql(tables, dialect, rows))
    return [
        StateRecord(
            experiment=str(row["experiment"]),
            state_version=int(row["state_version"]),
            base_version=int(row["base_version"]),
            settled_until=_naive(row["settled_until"]),
            plan_hash=str(row["plan_hash"]),
            expsql_version=str(row["expsql_version"]),
            refreshed_at=_naive(row["refreshed_at"]),
        )
        for _, row in frame.iterrows()
    ]


def read_record(dao: Dao, tables: StateTables, dialect: Dialect) -> StateRecord | None:
    """The experiment's current record (``None``: it has no state yet)."""
    records = read_records(dao, tables, dialect, 1)
    return records[0] if records else None


def _naive(value: object) -> dt.datetime:
    moment = pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def analyze_sql(name: str, dialect: Dialect) -> str:
    """``ANALYZE name``: the statistics a planner needs of a table created from a query."""
    return dialect.render(exp.Analyze(tables=[table_node(name)]), pretty=False)
