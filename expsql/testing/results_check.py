"""The kit's check of ``--write-results``: a dialect that declares a ``publish`` step writes an
evaluation through its Dao's table loader and reads every table back equal.

:func:`check_results` evaluates a reference experiment from the oracle's rows (no warehouse needed
for that), with NaN, ±infinity and a non-ASCII metric name in it, writes it to a results schema of
the target (:func:`expsql.results.write_results`), reads each part back and compares it with the
Evaluation's frame exactly (IEEE values, NULLs, types), writes the run again to see that nothing
duplicates, and drops every table and view it made. A dialect with ``publish="none"`` is
``unsupported``: its ``--write-results`` is refused.
"""

from __future__ import annotations

import math
import time
import uuid
import warnings
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
from sqlglot import exp

from expsql.dialects.frames import table_node
from expsql.results import (
    PARTS,
    PREFIX,
    ResultsError,
    list_runs,
    part_tables,
    read_evaluation,
    read_part,
    write_results,
)
from expsql.stats import evaluate
from expsql.stats.evaluation import Evaluation
from expsql.stats.tables import Table
from expsql.testing.cases import CASES
from expsql.testing.data import reference_tables
from expsql.testing.kit import CaseResult, Status, Target

#: The reference experiment written (it has a breakdown, so seven tables).
CASE = "attributed: breakdown"
NON_ASCII_NAME = "Umsatz pro Käufer — 購入 ✓"


@cache
def results_evaluation() -> Evaluation:
    """The reference experiment evaluated from the oracle's goal rows, with ±inf in ``mean`` and a
    non-ASCII metric name (its degenerate metric brings NaN)."""
    case = CASES[CASE]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluation = evaluate(case.experiment, case.expected(reference_tables(), "goals"))
    table = evaluation.metric_table
    data = list(table.data)
    mean = np.array(table.column("mean"), dtype=float)
    mean[0], mean[-1] = math.inf, -math.inf
    data[table.columns.index("mean")] = mean
    names = np.array(table.column("metric_name"), dtype=object)
    names[0] = NON_ASCII_NAME
    data[table.columns.index("metric_name")] = names
    return replace(evaluation, metric_table=Table(table.columns, tuple(data)))


def check_results(target: Target, schema: str = "expsql_kit_results") -> CaseResult:
    """Write :func:`results_evaluation` to ``schema`` on ``target`` and read it back; ``pass``,
    ``fail`` with the first difference, or ``unsupported`` (``publish="none"``)."""
    started = time.perf_counter()
    dialect = target.resolved

    def result(status: Status, detail: str = "") -> CaseResult:
        elapsed = time.perf_counter() - started
        return CaseResult("results round trip", "results", "results", status, detail, elapsed)

    if dialect.publish == "none":
        try:
            write_results(results_evaluation(), target.dao, dialect, schema)
        except ResultsError as error:
            return result("unsupported", str(error))
        return result("fail", "declares publish='none', but wrote results")
    evaluation = results_evaluation()
    run_id = f"kit-{uuid.uuid4().hex[:8]}"
    try:
        write_results(evaluation, target.dao, dialect, schema, run_id=run_id)
        for part, table in part_tables(evaluation).items():
            read = read_part(target.dao, dialect, schema, part, run_id, table.columns)
            difference = frame_difference(read, table.to_pandas())
            if difference:
                return result("fail", f"{PREFIX}{part}: {difference}")
        write_results(evaluation, target.dao, dialect, schema, run_id=run_id)  # again: nothing added
        runs = list_runs(target.dao, dialect, schema)["run_id"].tolist()
        if runs != [run_id]:
            return result("fail", f"{PREFIX}runs holds {runs} after writing {run_id!r} twice")
        metrics = read_part(target.dao, dialect, schema, "metrics", run_id, ("metric_id",))
        if len(metrics) != len(evaluation.metric_table):
            return result("fail", f"writing the run twice left {len(metrics)} metric rows")
        if str(read_evaluation(target.dao, dialect, schema, run_id)) != str(evaluation):
            return result("fail", "the scorecard read back from the tables differs from the evaluation's")
    except Exception as error:
        return result("fail", f"{type(error).__name__}: {error}")
    finally:
        drop_results(target, schema)
    return result("pass")


def frame_difference(read: pd.DataFrame, frame: pd.DataFrame) -> str | None:
    """The first value where ``read`` differs from ``frame`` (NaN equals NaN; a missing value is
    ``None``, ``NA`` or NaN), ``None`` when none does."""
    if list(read.columns) != list(frame.columns):
        return f"columns {list(read.columns)} instead of {list(frame.columns)}"
    if len(read) != len(frame):
        return f"{len(read)} rows instead of {len(frame)}"
    for name in frame.columns:
        for row, (got, want) in enumerate(zip(read[name].tolist(), frame[name].tolist(), strict=True)):
            if _missing(want):
                same = _missing(got) and (not isinstance(want, float) or isinstance(got, float))
            elif isinstance(want, bool | np.bool_) or isinstance(got, bool | np.bool_):
                same = isinstance(got, bool | np.bool_) and bool(got) == bool(want)
            else:
                same = got == want and (type(got) is type(want) or isinstance(want, float | int | np.number))
            if not same:
                return f"row {row}, column {name!r}: {got!r} instead of {want!r}"
    return None


def drop_results(target: Target, schema: str) -> None:
    """Drop the results tables and views in ``schema`` (what :func:`check_results` wrote)."""
    dialect = target.resolved
    for part in ("runs", *PARTS):
        view = exp.Drop(tables=[table_node(f"{schema}.{PREFIX}latest_{part}")], kind="VIEW", exists=True)
        try:
            target.dao.execute(dialect.render(view))
        except Exception:  # a view the write never made
            continue
    for part in ("runs", *PARTS):
        try:
            drop = exp.Drop(tables=[table_node(f"{schema}.{PREFIX}{part}")], kind="TABLE", exists=True)
            target.dao.execute(dialect.render(drop))
        except Exception:  # a table the write never made
            continue


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
