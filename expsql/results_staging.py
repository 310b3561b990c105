"""What a killed writer leaves behind in a results schema, and how the next write removes it.

A writer loads every part of a run into staging tables named ``expsql_stage_<tag>_<part>``, where the
tag holds a hash of the run id, the time the staging began (Unix seconds, hex) and a few random
characters; it drops them once the run is published. A writer killed before that leaves them, and
on a dialect that publishes with a ``marker`` (Spark: each table's ``INSERT`` commits alone, the
runs row last) it may also leave a run's rows in some tables without its runs row.

:func:`cleanup` (called at the start of every write, and on its own by :func:`expsql.results.cleanup_results`)
drops the staging tables older than ``stale_after``, then deletes the rows of runs without a runs row
whose writer is gone (no staging table of the run left). Readers never see such rows either way:
the latest-run views and every read go through the runs table. A table that cannot ``DELETE``
(Spark's default parquet tables; Delta Lake and Iceberg tables can) keeps them, hidden.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlglot import exp

from expsql.dialects.base import Dao, Dialect
from expsql.dialects.frames import table_node
from expsql.errors import ConnectorError

PREFIX: Final = "expsql_"
STAGE: Final = f"{PREFIX}stage_"
#: A staging table older than this belongs to a writer that is gone (a write takes minutes at most).
STALE_AFTER: Final = dt.timedelta(hours=6)
_HASH: Final = 12
_TIME: Final = 8


@dataclass(frozen=True)
class Cleanup:
    """What :func:`cleanup` did: staging tables dropped, runs whose rows it deleted, and runs whose
    rows stay (hidden from readers) because their table cannot delete."""

    dropped_staging: tuple[str, ...] = ()
    removed_runs: tuple[str, ...] = ()
    hidden_runs: tuple[str, ...] = ()


def run_hash(run_id: str) -> str:
    return hashlib.sha256(run_id.encode()).hexdigest()[:_HASH]


def stage_tag(run_id: str, now: dt.datetime) -> str:
    """``<hash of the run id><staging start, hex seconds><random>``: 24 characters, so the longest
    staging table name (``…_breakdown_exposures``) stays within PostgreSQL's 63 bytes."""
    return f"{run_hash(run_id)}{int(now.timestamp()):0{_TIME}x}{uuid.uuid4().hex[:4]}"


def stage_table(schema: str, tag: str, part: str) -> str:
    return f"{schema}.{STAGE}{tag}_{part}"


def staged_at(name: str) -> tuple[str, dt.datetime] | None:
    """The run hash and start time of a staging table ``name`` (``None``: not a staging table)."""
    name = name.lower()
    if not name.startswith(STAGE):
        return None
    tag = name[len(STAGE) :].split("_", 1)[0]
    try:
        seconds = int(tag[_HASH : _HASH + _TIME], 16)
    except ValueError:
        return None
    return tag[:_HASH], dt.datetime.fromtimestamp(seconds, dt.UTC)


def table_names(dao: Dao, dialect: Dialect, schema: str) -> list[str]:
    """The tables in ``schema``: the Dao's ``list_tables(schema)`` when it has one (Spark), else
    ``information_schema.tables``."""
    lister = getattr(dao, "list_tables", None)
    if callable(lister):
        return [str(name) for name in lister(schema)]
    parts = schema.split(".")
    condition: exp.Condition = exp.EQ(
        this=exp.column("table_schema"), expression=exp.Literal.string(parts[-1])
    )
    if len(parts) == 2:
        condition = exp.and_(
            condition, exp.EQ(this=exp.column("table_catalog"), expression=exp.Literal.string(parts[0]))
        )
    select = (
        exp.select(exp.column("table_name"))
        .from_(exp.table_("tables", db="information_schema"))
        .where(condition)
    )
    return [str(name) for name in dao.execute(dialect.render(select)).iloc[:, 0]]


def cleanup(
    dao: Dao,
    dialect: Dialect,
    schema: str,
    parts: Iterable[str],
    *,
    stale_after: dt.timedelta = STALE_AFTER,
    now: dt.datetime | None = None,
) -> Cleanup:
    """Drop stale staging tables; on a ``marker`` dialect, delete the rows of ``parts``' tables whose
    run has no runs row and no staging table left (its writer is gone)."""
    now = now or dt.datetime.now(dt.UTC)
    loader: Any = dao  # a Dao that can load tables has drop_table
    names = table_names(dao, dialect, schema)
    dropped = []
    for name in names:
        staged = staged_at(name)
        if staged is not None and now - staged[1] >= stale_after:
            try:
                loader.drop_table(f"{schema}.{name}")
            except Exception:  # dropped by another writer at the same moment
                continue
            dropped.append(name)
    present = {name.lower() for name in names}
    parts = [part for part in parts if f"{PREFIX}{part}" in present]
    if dialect.publish != "marker" or f"{PREFIX}runs" not in present or not parts:
        return Cleanup(tuple(dropped))  # in one transaction a run's rows land with its runs row
    orphans = _orphans(dao, dialect, schema, parts)
    # Listed after the orphans: a writer whose rows were seen has its staging tables until its
    # runs row is written (which the DELETE's own check then sees) or it fails (its rows are orphans).
    live = {staged[0] for name in table_names(dao, dialect, schema) if (staged := staged_at(name))}
    removed: set[str] = set()
    hidden: set[str] = set()
    for part, run_id in sorted(orphans):
        if run_hash(run_id) in live:
            continue
        try:
            dao.execute(_delete_sql(dialect, schema, part, run_id))
            removed.add(run_id)
        except ConnectorError:  # a table that cannot DELETE (Spark's parquet): hidden, kept
            hidden.add(run_id)
    return Cleanup(tuple(dropped), tuple(sorted(removed - hidden)), tuple(sorted(hidden)))


def published(run_id: str, schema: str) -> exp.Exists:
    """``EXISTS (SELECT 1 FROM <schema>.expsql_runs WHERE run_id = <run_id>)``: the run's marker."""
    return exp.Exists(
        this=exp.select(exp.Literal.number(1))
        .from_(table_node(f"{schema}.{PREFIX}runs"))
        .where(_is_run(run_id))
    )


def _is_run(run_id: str, table: str | None = None) -> exp.EQ:
    return exp.EQ(
        this=exp.column(exp.to_identifier("run_id", quoted=True), table=table),
        expression=exp.Literal.string(run_id),
    )


def _orphans(dao: Dao, dialect: Dialect, schema: str, parts: list[str]) -> set[tuple[str, str]]:
    """``(part, run id)`` of the rows in ``parts``' tables without a runs row, in one query."""
    selects = []
    for part in parts:
        runs = exp.alias_(table_node(f"{schema}.{PREFIX}runs"), "r", table=True)
        marker = exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(runs)
            .where(
                exp.EQ(
                    this=exp.column(exp.to_identifier("run_id", quoted=True), table="r"),
                    expression=exp.column(exp.to_identifier("run_id", quoted=True), table="p"),
                )
            )
        )
        selects.append(
            exp.select(
                exp.alias_(exp.Literal.string(part), "part"),
                exp.column(exp.to_identifier("run_id", quoted=True), table="p"),
            )
            .distinct()
            .from_(exp.alias_(table_node(f"{schema}.{PREFIX}{part}"), "p", table=True))
            .where(exp.Not(this=marker))
        )
    union: Any = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    frame = dao.execute(dialect.render(union))
    return {(str(part), str(run_id)) for part, run_id in frame.itertuples(index=False)}


def _delete_sql(dialect: Dialect, schema: str, part: str, run_id: str) -> str:
    """``DELETE FROM part WHERE run_id = … AND NOT EXISTS (its runs row)``: a run that got its runs
    row meanwhile keeps its rows."""
    condition = exp.and_(_is_run(run_id), exp.Not(this=published(run_id, schema)))
    return dialect.render(
        exp.Delete(this=table_node(f"{schema}.{PREFIX}{part}"), where=exp.Where(this=condition))
    )
