"""One incremental refresh: settle what is new into a new version of the state, query the state
and the unsettled rows, make the new version current in one step, drop the old.

The steps, in order (``on_step`` is called with each name before it runs)::

    lock      one refresh of the experiment at a time (:mod:`.locks`)
    record    read the current version; decide incremental or full (no state, another plan
              hash or expsql version, --full-refresh)
    clean     drop what a killed refresh left: tables of the version about to be written, and
              the version before the current one
    write     CREATE TABLE … AS each state table of the new version ("write exposures", ...)
    query     the experiment's query over the new version and the raw rows since its watermark
    commit    append the record's row of the new version: the one atomic step
    drop      drop the previous version's tables

A refresh killed before ``commit`` leaves the previous version current and untouched (the next
refresh drops the half-written one); killed after it, the new version is current (the next drops
the old one). Either way the next refresh's rows are the full query's.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from expsql.compiler.build import resolve_dialect
from expsql.dialects import Dao, Dialect
from expsql.dialects.frames import create_schema_sql, drop_table_sql
from expsql.errors import ConnectorError, ExpsqlError
from expsql.incremental.inputs import Window
from expsql.incremental.locks import refresh_lock
from expsql.incremental.plans import RefreshPlan, plan_refresh
from expsql.incremental.state import (
    StateRecord,
    StateTables,
    Tiers,
    analyze_sql,
    append_record_sql,
    create_record_sql,
    read_records,
)
from expsql.models import Experiment
from expsql.runner import Rows, Run, evaluated_run, execute
from expsql.runner import run as full_run
from expsql.source import AnySource, Source
from expsql.version import __version__

#: The default late-arrival margin: events arriving up to this long after their timestamp count.
LATE_ARRIVAL_HOURS = 48.0
#: Refreshes between two merges of the state's base.
MERGE_EVERY = 7


class IncrementalError(ExpsqlError):
    """An incremental refresh cannot run (no state schema, a dialect without the capability)."""


@dataclass(frozen=True)
class StateOptions:
    """Where the state lives and what it waits for.

    :param schema: the schema the state tables are written to (``schema`` or ``catalog.schema``):
        the warehouse user needs to create and drop tables there, and only there.
    :param late_arrival_hours: events arriving up to this many hours after their own timestamp are
        counted exactly; each refresh re-reads that margin, and the state settles only what is older.
    :param merge_every: every this many refreshes, one rewrites the state's base whole (merging in
        what was settled since); the others rewrite only their recent table (:class:`.Tiers`).
    """

    schema: str
    late_arrival_hours: float = LATE_ARRIVAL_HOURS
    merge_every: int = MERGE_EVERY

    def __post_init__(self) -> None:
        if self.merge_every < 1:
            raise IncrementalError(f"merge_every must be 1 or more, not {self.merge_every}")
        if not self.schema or any(not part for part in self.schema.split(".")) or self.schema.count(".") > 1:
            raise IncrementalError(f"state schema {self.schema!r} must be 'schema' or 'catalog.schema'")
        if self.late_arrival_hours < 0:
            raise IncrementalError(f"late_arrival_hours must be 0 or more, not {self.late_arrival_hours}")


@dataclass(frozen=True)
class Refresh:
    """What one refresh did.

    :param run: the rows and their evaluation, as a full run returns them.
    :param incremental: the rows came from the state and the rows since its watermark; ``False``:
        the state was (re)built from the whole window, or (``record`` ``None``) no state is kept.
    :param reason: why the refresh was not incremental (``""`` when it was).
    :param record: the state's current version after the refresh.
    :param statements: every statement it ran that writes the state, then the query.
    """

    run: Run
    incremental: bool
    reason: str
    record: StateRecord | None
    statements: tuple[str, ...]
    seconds: float

    def summary(self) -> str:
        if self.record is None:
            return f"full run: {self.reason}"
        settled = self.record.settled_until.isoformat(sep=" ")
        how = "incremental refresh" if self.incremental else f"full refresh ({self.reason})"
        return f"{how}: state version {self.record.state_version}, settled until {settled}"


def check_dialect(dialect: Dialect) -> None:
    """:raises IncrementalError: ``dialect`` cannot keep a state (:attr:`Dialect.incremental`)."""
    if not dialect.incremental:
        raise IncrementalError(
            f"{dialect.name} cannot keep an incremental state: its dialect does not declare that the "
            "warehouse creates tables from queries and commits a one-row INSERT atomically "
            "(Dialect.incremental); run without --incremental"
        )


def not_incremental(experiment: Experiment) -> str | None:
    """Why ``experiment`` is run in full rather than from a state (``None``: it can be refreshed)."""
    for metric in experiment.metrics:
        if metric.event_quantile:
            return (
                f"metric {metric.id} is a quantile of events: its rows need every event, and the state "
                "keeps sums"
            )
    return None


def refresh(
    experiment: Experiment,
    dao: Dao,
    *,
    dialect: str | Dialect,
    state: StateOptions,
    source: AnySource | None = None,
    rows: Rows = "metrics",
    as_of: dt.datetime | None = None,
    full_refresh: bool = False,
    on_step: Callable[[str], None] | None = None,
    on_query: Callable[[str], None] | None = None,
    close: bool = True,
) -> Refresh:
    """Refresh ``experiment``'s state in ``state.schema`` and return its rows, equal to the full
    query's on the same data.

    :param as_of: the moment the data is complete up to (default: now, UTC); the state settles
        what is older than ``as_of`` minus the late-arrival margin.
    :param full_refresh: rebuild the state from the whole window.
    :param on_step: called with each step's name (:mod:`.refresh`) before it runs.
    :raises IncrementalError: the state schema cannot be written.
    :raises RefreshBusy: another refresh of the experiment is running.
    """
    resolved = resolve_dialect(dialect)
    check_dialect(resolved)
    source = source or Source()
    reason = not_incremental(experiment)
    if reason is not None:
        run = full_run(
            experiment, dao, dialect=resolved.name, rows=rows, source=source, on_query=on_query, close=close
        )
        return Refresh(run, False, reason, None, (run.sql,), run.query_seconds)
    started = time.perf_counter()
    plan = plan_refresh(experiment, source, resolved)
    tables = StateTables(state.schema, experiment.id)
    moment = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    step = on_step or (lambda name: None)
    try:
        _prepare(dao, resolved, tables)
        step("lock")
        with refresh_lock(dao, resolved, tables):
            step("record")
            result = _refresh_locked(plan, dao, tables, rows, moment, state, full_refresh, step, on_query)
    finally:
        if close:
            dao.close()
    statements, frame, query_seconds, record, incremental, why = result
    run = evaluated_run(experiment, resolved.name, rows, statements[-1], frame, query_seconds, source)
    return Refresh(run, incremental, why, record, tuple(statements), time.perf_counter() - started)


def _prepare(dao: Dao, dialect: Dialect, tables: StateTables) -> None:
    """The record table, and the state schema first when it is missing.

    The schema is created only when the record cannot be: PostgreSQL checks ``CREATE SCHEMA IF NOT
    EXISTS`` against the right to create schemas in the database even when the schema exists, and
    a writer needs rights on the state schema only.
    """
    try:
        dao.execute(create_record_sql(tables, dialect))
    except ConnectorError:
        pass
    else:
        return
    try:
        dao.execute(create_schema_sql(tables.schema, dialect.sqlglot_dialect))
        dao.execute(create_record_sql(tables, dialect))
    except ConnectorError as error:
        raise IncrementalError(
            f"cannot write the state schema {tables.schema!r}: {error}. The warehouse user needs to "
            f"create, read and drop tables in {tables.schema!r} (and only there); it reads the source "
            "tables as for any run"
        ) from error


def _refresh_locked(
    plan: RefreshPlan,
    dao: Dao,
    tables: StateTables,
    rows: Rows,
    moment: dt.datetime,
    state: StateOptions,
    full_refresh: bool,
    step: Callable[[str], None],
    on_query: Callable[[str], None] | None,
) -> tuple[list[str], pd.DataFrame, float, StateRecord, bool, str]:
    dialect = plan.dialect
    records = read_records(dao, tables, dialect, 2)
    current = records[0] if records else None
    plan_hash = plan.hash(tables)
    reason = _full_reason(current, plan_hash, full_refresh)
    previous = None if reason else current
    version = 1 if current is None else current.state_version + 1
    merging = previous is None or version - previous.base_version >= state.merge_every
    new = Tiers(version, version if merging or previous is None else previous.base_version)
    since = None if previous is None else previous.settled_until
    until = plan.settle_point(moment - dt.timedelta(hours=state.late_arrival_hours))
    if since is not None and until < since:
        until = since  # a refresh never un-settles what an earlier one settled
    parts = [state_input.part for state_input in plan.inputs]
    step("clean")
    # What a killed refresh left: tables of the version about to be written, and those of the
    # version before the current one that the current one does not read.
    stale = [
        name for tier in ("base", "recent") for name in (tables.table(version, f"{p}_{tier}") for p in parts)
    ]
    if current is not None and len(records) > 1:
        stale += records[1].tiers.unused_by(current.tiers, tables, parts)
    for name in stale:
        dao.execute(drop_table_sql(name, dialect.sqlglot_dialect))
    window = Window(since, until)
    statements = plan.settle_statements(tables, None if previous is None else previous.tiers, new, window)
    # Compiled before anything is written: a query the compiler refuses leaves the state as it was.
    query = plan.query(tables, new, until, rows)
    limit = dialect.max_query_bytes
    if limit is not None and len(query.encode()) > limit:
        raise IncrementalError(
            f"the refresh query of {tables.experiment!r} is {len(query.encode()):,} bytes and {dialect.name} "
            f"takes queries of at most {limit:,} bytes; run it without --incremental (a plain run splits "
            "its metric rows into several statements)"
        )
    for state_input, statement in zip(plan.inputs, statements, strict=True):
        step(f"write {state_input.part}")
        dao.execute(statement)
        if dialect.analyze_new_tables:  # the next statement joins it: plan it from its real size
            dao.execute(analyze_sql(new.tables(tables, state_input.part)[-1], dialect))
    step("query")
    if on_query is not None:
        on_query(query)
    frame, query_seconds = execute(dao, query)
    step("commit")
    record = StateRecord(
        experiment=tables.experiment,
        state_version=version,
        base_version=new.base_version,
        settled_until=until,
        plan_hash=plan_hash,
        expsql_version=__version__,
        refreshed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    dao.execute(append_record_sql(tables, record, dialect))
    step("drop")
    if current is not None:
        for name in current.tiers.unused_by(new, tables, parts):
            dao.execute(drop_table_sql(name, dialect.sqlglot_dialect))
    return [*statements, query], frame, query_seconds, record, not reason, reason


def _full_reason(current: StateRecord | None, plan_hash: str, full_refresh: bool) -> str:
    """Why the state is built from the whole window (``""``: it is refreshed incrementally)."""
    if current is None:
        return "no state yet"
    if full_refresh:
        return "--full-refresh"
    if current.plan_hash != plan_hash:
        return "the experiment's definition or source changed since the state was built"
    if current.expsql_version != __version__:
        return f"the state was built by expsql {current.expsql_version}, this is {__version__}"
    return ""
