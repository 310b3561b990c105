"""Write each evaluation back to the warehouse: an append-only history of runs, one table per part.

``write_results`` loads every part of an :class:`~expsql.stats.Evaluation` (and one row for the
run itself) into staging tables through the Dao's table loader, creates the results tables when
they are missing (and adds the columns a later expsql version brought: ``ADD COLUMN``, never a
drop), then publishes the run in the one step the dialect offers (:attr:`Dialect.publish`): one
transaction of ``INSERT … SELECT`` from staging, or (``marker``) each table's ``INSERT`` alone and
the runs row last. A run id already published is skipped, so writing a run twice duplicates
nothing; with ``transaction`` a unique index on the runs table's ``run_id`` makes the second of two
writers of one run id at once fail its transaction, which then counts as written. Readers go through
the runs table, so they never see rows of a run without its runs row; each write first removes
what killed writers left (:mod:`expsql.results_staging`). Every statement is a sqlglot tree; names
are identifiers, values literals.

Tables (``expsql_`` then the part): ``runs``, ``exposures``, ``metrics``, ``checks``,
``timeline``, ``breakdown_exposures``, ``breakdown_metrics``, ``breakdown_checks``,
``breakdown_timeline``; each part has ``run_id``, ``row_number`` then the Evaluation frame's
columns. ``expsql_latest_<part>`` views hold the latest run of each experiment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlglot import exp

from expsql.contracts import TIMELINE_DAY
from expsql.dialects.base import Dao, Dialect
from expsql.dialects.frames import arrow_table, create_schema_sql, table_node
from expsql.errors import ConnectorError, ExpsqlError
from expsql.models import Experiment
from expsql.results_staging import PREFIX, STALE_AFTER, Cleanup, cleanup, published, stage_table, stage_tag
from expsql.stats.evaluation import Evaluation
from expsql.stats.segment_results import Breakdowns
from expsql.stats.tables import Table
from expsql.version import __version__

PARTS: Final = (
    "exposures",
    "metrics",
    "checks",
    "timeline",
    "breakdown_exposures",
    "breakdown_metrics",
    "breakdown_checks",
    "breakdown_timeline",
)
_SQL_TYPES: Final = {
    "int64": "BIGINT",
    "double": "DOUBLE",
    "string": "TEXT",
    "bool": "BOOLEAN",
    "timestamp[us]": "TIMESTAMP",
    "date32[day]": "DATE",
}


class ResultsError(ExpsqlError):
    """The results cannot be written or read (a dialect without publishing, an unknown run)."""


def part_tables(evaluation: Evaluation) -> dict[str, Table]:
    """The evaluation's parts by results-table name (only those it has)."""
    tables = {
        "exposures": evaluation.exposure_table,
        "metrics": evaluation.metric_table,
        "checks": evaluation.check_table,
    }
    if evaluation.timeline_table is not None:
        tables["timeline"] = evaluation.timeline_table
    breakdowns: Breakdowns | None = evaluation.breakdowns
    if breakdowns is not None:
        tables["breakdown_exposures"] = breakdowns.exposure_table
        tables["breakdown_metrics"] = breakdowns.metric_table
        tables["breakdown_checks"] = breakdowns.check_table
        if breakdowns.timeline_table is not None:
            tables["breakdown_timeline"] = breakdowns.timeline_table
    return tables


def experiment_json(experiment: Experiment | None) -> str:
    return "" if experiment is None else experiment.model_dump_json(by_alias=True, exclude_none=True)


def run_frame(
    evaluation: Evaluation,
    run_id: str,
    *,
    dialect: str,
    rows: str,
    started: dt.datetime,
    finished: dt.datetime,
    experiment: Experiment | None = None,
) -> pd.DataFrame:
    """The run's one row: ids, UTC times, dialect, row contract, options, the definition and its hash."""
    definition = experiment_json(experiment if experiment is not None else evaluation.experiment)
    cuped = (
        bool(np.any(evaluation.metric_table.column("cuped")))
        if "cuped" in evaluation.metric_table.columns
        else False
    )
    row: dict[str, Any] = {
        "run_id": run_id,
        "experiment_id": evaluation.experiment_id,
        "started_at": _utc(started),
        "finished_at": _utc(finished),
        "dialect": dialect,
        "rows": rows,
        "contract": evaluation.contract,
        "control_variant": evaluation.control_variant,
        "variants": json.dumps(list(evaluation.variants)),
        "confidence_level": float(evaluation.confidence_level),
        "correction": evaluation.correction,
        "sequential": evaluation.sequential,
        "sequential_tuning": float(evaluation.sequential_tuning),
        "inference": evaluation.inference,
        "prior": json.dumps(dict(evaluation.prior)),
        "decision_threshold": float(evaluation.decision_threshold),
        "cuped": cuped,
        "warnings": json.dumps(list(evaluation.warnings)),
        "breakdown_dimensions": json.dumps(
            [] if evaluation.breakdowns is None else list(evaluation.breakdowns.dimensions)
        ),
        "breakdown_top": -1 if evaluation.breakdowns is None else int(evaluation.breakdowns.top),
        "experiment_json": definition,
        "experiment_hash": hashlib.sha256(definition.encode()).hexdigest(),
        "expsql_version": __version__,
    }
    frame = pd.DataFrame({name: [value] for name, value in row.items()})
    for name in ("started_at", "finished_at"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
    return frame


def part_frame(table: Table, run_id: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            name: pd.Series(array, dtype=_dtype(array))
            for name, array in zip(table.columns, table.data, strict=True)
        }
    )
    frame.insert(0, "row_number", np.arange(len(frame), dtype="int64"))
    frame.insert(0, "run_id", run_id)
    return frame


def write_results(
    evaluation: Evaluation,
    dao: Dao,
    dialect: Dialect,
    schema: str,
    *,
    run_id: str | None = None,
    rows: str = "metrics",
    started: dt.datetime | None = None,
    finished: dt.datetime | None = None,
    experiment: Experiment | None = None,
    pause: Any = None,
    stale_after: dt.timedelta = STALE_AFTER,
) -> str:
    """Append ``evaluation`` to the results tables in ``schema``; return its run id.

    :param pause: called between staging and publishing (tests kill the process there).
    :param stale_after: staging tables older than this are a killed writer's, dropped first
        (:func:`cleanup_results`).
    """
    if dialect.publish == "none" or not dialect.can_load_tables:
        raise ResultsError(f"dialect {dialect.name!r} cannot write results (no table loader or publish step)")
    run_id = run_id or uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    frames = {name: part_frame(table, run_id) for name, table in part_tables(evaluation).items()}
    frames["runs"] = run_frame(
        evaluation,
        run_id,
        dialect=dialect.name,
        rows=rows,
        started=started or now,
        finished=finished or now,
        experiment=experiment,
    )
    tag = stage_tag(run_id, now)
    staged: dict[str, str] = {}
    _ensure_schema(dao, dialect, schema)
    with contextlib.suppress(ConnectorError):  # leftovers never stop a write
        cleanup_results(dao, dialect, schema, stale_after=stale_after)
    loader: Any = dao  # a Dao of a dialect that can load tables and publish (checked above)
    runs = f"{schema}.{PREFIX}runs"
    try:
        for name, frame in frames.items():
            stage = stage_table(schema, tag, name)
            loader.load_table(frame, stage, nan_as_null=False)
            staged[name] = stage
            _ensure_table(dao, dialect, f"{schema}.{PREFIX}{name}", frame)
        if dialect.publish == "transaction":
            _ensure_unique_run_id(dao, dialect, runs)
        if pause is not None:
            pause()
        parts = [n for n in frames if n != "runs"]
        # In a transaction the runs row goes first: a second writer of the run id waits on its
        # unique index there; as a marker it goes last.
        order = ["runs", *parts] if dialect.publish == "transaction" else [*parts, "runs"]
        statements = [
            _insert_sql(f"{schema}.{PREFIX}{name}", staged[name], list(frames[name].columns), run_id, dialect)
            for name in order
        ]
        if dialect.publish == "transaction":
            try:
                loader.publish(statements)
            except ConnectorError:
                if not _landed(dao, dialect, schema, run_id):
                    raise  # not another writer of this run id that committed first
        else:
            with _MARKER_LOCK:  # Spark: two INSERTs into one table at once share its _temporary dir
                for statement in statements:
                    _retried(dao, statement)
        for name in [*frames]:
            _create_view(dao, dialect, schema, name)
    finally:
        for stage in staged.values():
            with contextlib.suppress(Exception):  # a leftover staging table is harmless
                loader.drop_table(stage)
    return run_id


def cleanup_results(
    dao: Dao, dialect: Dialect, schema: str, *, stale_after: dt.timedelta = STALE_AFTER
) -> Cleanup:
    """Remove what killed writers left in ``schema``: staging tables older than ``stale_after`` and,
    on a ``marker`` dialect, rows of runs without a runs row whose writer is gone (kept, hidden from
    readers, where the table cannot ``DELETE``). Every write does this first."""
    return cleanup(dao, dialect, schema, PARTS, stale_after=stale_after)


def _landed(dao: Dao, dialect: Dialect, schema: str, run_id: str) -> bool:
    try:
        return not read_part_all(dao, dialect, f"{schema}.{PREFIX}runs", run_id).empty
    except ConnectorError:
        return False


def _ensure_unique_run_id(dao: Dao, dialect: Dialect, runs: str) -> None:
    """``CREATE UNIQUE INDEX IF NOT EXISTS expsql_runs_run_id ON runs (run_id)``: of two writers of one
    run id at once, the second's transaction fails. A warehouse without unique indexes (or a
    history that already holds a run twice) goes without."""
    index = exp.Index(
        this=_quoted(f"{PREFIX}runs_run_id"),
        table=table_node(runs),
        params=exp.IndexParameters(columns=[exp.Ordered(this=exp.column(_quoted("run_id")))]),
    )
    with contextlib.suppress(ConnectorError):
        dao.execute(dialect.render(exp.Create(this=index, kind="INDEX", unique=True, exists=True)))


def list_runs(dao: Dao, dialect: Dialect, schema: str) -> pd.DataFrame:
    """The runs in ``schema``, latest first."""
    select = (
        exp.select(
            *(
                exp.column(c)
                for c in ("run_id", "experiment_id", "started_at", "finished_at", "dialect", "expsql_version")
            )
        )
        .from_(table_node(f"{schema}.{PREFIX}runs"))
        .order_by(exp.Ordered(this=exp.column("finished_at"), desc=True))
    )
    return dao.execute(dialect.render(select))


def read_part(
    dao: Dao, dialect: Dialect, schema: str, part: str, run_id: str, columns: tuple[str, ...]
) -> pd.DataFrame:
    """One part of ``run_id`` as written: the Evaluation frame's ``columns``, in its row order."""
    select = (
        exp.select(*(exp.column(exp.to_identifier(c, quoted=True)) for c in columns))
        .from_(table_node(f"{schema}.{PREFIX}{part}"))
        .where(_committed(schema, run_id))
        .order_by(exp.column(exp.to_identifier("row_number", quoted=True)))
    )
    return _dates(dao.execute(dialect.render(select)))


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    """The timeline's ``day`` as dates again (engines hand a ``DATE`` back as a timestamp)."""
    if TIMELINE_DAY in frame.columns and frame[TIMELINE_DAY].dtype.kind == "M":
        frame[TIMELINE_DAY] = pd.Series(
            [d.date() for d in frame[TIMELINE_DAY]], dtype=object, index=frame.index
        )
    return frame


def read_evaluation(dao: Dao, dialect: Dialect, schema: str, run_id: str) -> Evaluation:
    """The evaluation of ``run_id`` rebuilt from the results tables (its scorecard prints the same)."""
    run = read_part_all(dao, dialect, f"{schema}.{PREFIX}runs", run_id)
    if run.empty:
        raise ResultsError(f"no run {run_id!r} in {schema}")
    head = run.iloc[0]
    tables: dict[str, Table] = {}
    for part in PARTS:
        try:
            frame = read_part_all(dao, dialect, f"{schema}.{PREFIX}{part}", run_id)
        except ConnectorError:
            continue
        if frame.empty and part not in ("exposures", "metrics", "checks"):
            continue
        frame = _dates(frame).sort_values("row_number").drop(columns=["run_id", "row_number"])
        tables[part] = Table(tuple(frame.columns), tuple(_column(frame[c]) for c in frame.columns))
    breakdowns = None
    dimensions = json.loads(head["breakdown_dimensions"])
    if "breakdown_metrics" in tables and dimensions:
        breakdowns = Breakdowns(
            tuple(dimensions),
            int(head["breakdown_top"]),
            str(head["correction"]),
            tables["breakdown_exposures"],
            tables["breakdown_metrics"],
            tables["breakdown_checks"],
            timeline_table=tables.get("breakdown_timeline"),
        )
    return Evaluation(
        experiment_id=str(head["experiment_id"]),
        contract=str(head["contract"]),
        control_variant=str(head["control_variant"]),
        variants=tuple(json.loads(head["variants"])),
        confidence_level=float(head["confidence_level"]),
        correction=str(head["correction"]),
        sequential=str(head["sequential"]),
        exposure_table=tables["exposures"],
        metric_table=tables["metrics"],
        check_table=tables["checks"],
        warnings=tuple(json.loads(head["warnings"])),
        breakdowns=breakdowns,
        timeline_table=tables.get("timeline"),
        inference=str(head["inference"]),
        prior=json.loads(head["prior"]),
        sequential_tuning=float(head["sequential_tuning"]),
        decision_threshold=float(head["decision_threshold"]),
    )


def read_experiment(dao: Dao, dialect: Dialect, schema: str, run_id: str) -> Experiment:
    """The experiment definition ``run_id`` evaluated, as written with it."""
    from expsql.models import validate_experiment

    run = read_part_all(dao, dialect, f"{schema}.{PREFIX}runs", run_id)
    if run.empty:
        raise ResultsError(f"no run {run_id!r} in {schema}")
    return validate_experiment(json.loads(run.iloc[0]["experiment_json"]), origin=f"run {run_id}")


def read_part_all(dao: Dao, dialect: Dialect, table: str, run_id: str) -> pd.DataFrame:
    """Every column of ``run_id``'s rows in ``table`` (``schema.expsql_<part>``): of a published run only."""
    schema, _, name = table.rpartition(".")
    is_run = exp.EQ(this=exp.column(_quoted("run_id")), expression=exp.Literal.string(run_id))
    where: exp.Condition = is_run if name == f"{PREFIX}runs" or not schema else _committed(schema, run_id)
    return dao.execute(dialect.render(exp.select(exp.Star()).from_(table_node(table)).where(where)))


def _committed(schema: str, run_id: str) -> exp.Condition:
    """``run_id = … AND EXISTS (its runs row)``: a part's rows of a published run only (on a
    ``marker`` dialect a killed writer's rows may sit in a table without their runs row)."""
    return exp.and_(
        exp.EQ(this=exp.column(_quoted("run_id")), expression=exp.Literal.string(run_id)),
        published(run_id, schema),
    )


def _column(series: pd.Series) -> np.ndarray:
    if series.dtype.kind in "fiub":
        array = series.to_numpy().copy()
    else:
        array = np.array(
            [
                None if v is pd.NA or v is None or (isinstance(v, float) and np.isnan(v)) else v
                for v in series
            ],
            dtype=object,
        )
    array.setflags(write=False)
    return array


def _dtype(array: np.ndarray) -> Any:
    return array.dtype if array.dtype.kind in "fiubM" else object


def _utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC without a zone (the tables' ``TIMESTAMP`` holds UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.replace(tzinfo=None)


def _quoted(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


_MARKER_LOCK = threading.Lock()


def _retried(dao: Dao, statement: str, attempts: int = 3) -> None:
    """Run one table's ``INSERT … WHERE NOT EXISTS`` again when a concurrent writer of another
    process broke its commit: the check makes a retry add nothing where it landed."""
    for attempt in range(attempts):
        try:
            dao.execute(statement)
            return
        except ConnectorError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def _ensure_schema(dao: Dao, dialect: Dialect, schema: str) -> None:
    """``CREATE SCHEMA IF NOT EXISTS``; a user without the right to create one writes into an
    existing schema (the ``CREATE TABLE`` that follows names the real problem, if any)."""
    with contextlib.suppress(ConnectorError):
        dao.execute(create_schema_sql(schema, dialect.sqlglot_dialect))


def _ensure_table(dao: Dao, dialect: Dialect, table: str, frame: pd.DataFrame) -> None:
    """Create ``table`` when missing; add the columns of ``frame`` it lacks (never drop one)."""
    schema = arrow_table(frame, nan_as_null=False).schema
    definitions = [
        exp.ColumnDef(
            this=_quoted(field.name), kind=exp.DataType.build(_SQL_TYPES.get(str(field.type), "TEXT"))
        )
        for field in schema
    ]
    create = exp.Create(
        this=exp.Schema(this=table_node(table), expressions=definitions), kind="TABLE", exists=True
    )
    try:
        dao.execute(dialect.render(create))
    except ConnectorError:
        if not _exists(dao, dialect, table):
            raise
        # created at the same moment by another run (PostgreSQL's IF NOT EXISTS can race)
    present = set(
        dao.execute(dialect.render(exp.select(exp.Star()).from_(table_node(table)).limit(0))).columns
    )
    for definition in definitions:
        if definition.name not in present:
            alter = exp.Alter(this=table_node(table), kind="TABLE", actions=[definition.copy()])
            _run(dao, dialect.render(alter))


def _run(dao: Dao, sql: str) -> None:
    dao.execute(sql)


def _exists(dao: Dao, dialect: Dialect, table: str) -> bool:
    try:
        dao.execute(dialect.render(exp.select(exp.Star()).from_(table_node(table)).limit(0)))
    except ConnectorError:
        return False
    return True


def _insert_sql(target: str, stage: str, columns: list[str], run_id: str, dialect: Dialect) -> str:
    """``INSERT INTO target (cols) SELECT cols FROM stage WHERE NOT EXISTS (the run in target)``.

    The check is on the target itself, so re-writing a run adds nothing where it landed and, on a
    dialect without a multi-table transaction (``marker``), completes a run that stopped half-way."""
    published = exp.Exists(
        this=exp.select(exp.Literal.number(1))
        .from_(table_node(target))
        .where(exp.EQ(this=exp.column(_quoted("run_id")), expression=exp.Literal.string(run_id)))
    )
    select = (
        exp.select(*(exp.column(_quoted(c)) for c in columns))
        .from_(table_node(stage))
        .where(exp.Not(this=published))
    )
    insert = exp.Insert(
        this=exp.Schema(this=table_node(target), expressions=[_quoted(c) for c in columns]), expression=select
    )
    return dialect.render(insert, pretty=False)


def _create_view(dao: Dao, dialect: Dialect, schema: str, part: str) -> None:
    """``expsql_latest_<part>``: the rows of each experiment's latest published run."""
    runs = table_node(f"{schema}.{PREFIX}runs")
    later = exp.alias_(runs.copy(), "later", table=True)
    r = exp.alias_(runs.copy(), "r", table=True)
    newer = exp.Exists(
        this=exp.select(exp.Literal.number(1))
        .from_(later)
        .where(
            exp.and_(
                exp.EQ(
                    this=exp.column(_quoted("experiment_id"), table="later"),
                    expression=exp.column(_quoted("experiment_id"), table="r"),
                ),
                exp.GT(
                    this=exp.column(_quoted("finished_at"), table="later"),
                    expression=exp.column(_quoted("finished_at"), table="r"),
                ),
            )
        )
    )
    latest = exp.select(exp.column(_quoted("run_id"), table="r")).from_(r).where(exp.Not(this=newer))
    view = (
        exp.select(exp.Star())
        .from_(table_node(f"{schema}.{PREFIX}{part}"))
        .where(exp.In(this=exp.column(_quoted("run_id")), query=exp.Subquery(this=latest)))
    )
    create = exp.Create(
        this=table_node(f"{schema}.{PREFIX}latest_{part}"), kind="VIEW", expression=view, replace=True
    )
    try:
        _run(dao, dialect.render(create))
    except ConnectorError:
        if not _exists(dao, dialect, f"{schema}.{PREFIX}latest_{part}"):
            raise  # another run replacing the view at the same moment is fine; a missing view is not


def results_frames(evaluation: Evaluation) -> Mapping[str, pd.DataFrame]:
    """Each part as the Evaluation gives it, for comparing with what the tables read back."""
    return {name: table.to_pandas() for name, table in part_tables(evaluation).items()}
