"""One experiment through the whole pipeline: compile → execute on a Dao → evaluate.

Shared by ``expsql run``, ``expsql demo`` and the REST service. Failures of the warehouse (a
connection refused, a query rejected) become :class:`~expsql.errors.ConnectorError`, whatever the
connector raised, so every caller can tell "the warehouse is the problem" from "the input is".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from expsql.dialects import Dao
from expsql.errors import ConnectorError, ExpsqlError
from expsql.models import Experiment
from expsql.source import AnySource, ExposuresSource

if TYPE_CHECKING:
    from expsql.stats import Evaluation

Rows = Literal["goals", "metrics", "units"]


@dataclass(frozen=True)
class Run:
    """What one run produced: the SQL, the rows it returned, how long that took, the evaluation."""

    experiment: Experiment
    dialect: str
    rows: Rows
    sql: str
    frame: pd.DataFrame
    query_seconds: float
    evaluation: Evaluation
    #: Seconds the statistics took on the rows (the service's metrics report it beside the query's).
    stats_seconds: float = 0.0


def choose_rows(experiment: Experiment, requested: Rows | None, default: Rows) -> Rows:
    """The row contract of a run: the one asked for, else metric rows when a metric is
    winsorized or has its own attribution window (only they serve those), else the configured
    ``default``.

    An explicit request for goal rows is kept, so that compiling it says why it cannot be
    (:class:`~expsql.errors.MetricRowsRequired`) instead of silently answering another question.
    """
    if requested is not None:
        return requested
    return "metrics" if experiment.needs_metric_rows() else default


def compile_experiment(
    experiment: Experiment, dialect: str, rows: Rows, source: AnySource | None = None
) -> list[str]:
    """The experiment's one query for ``dialect``, or the fewest statements its query-length
    limit allows (:func:`~expsql.compiler.compile_statements`)."""
    from expsql.compiler import compile_statements

    return compile_statements(experiment, dialect=dialect, rows=rows, source=source)


def script(statements: list[str]) -> str:
    """Statements as one text: the one query as it is, several each ended by a semicolon."""
    return statements[0] if len(statements) == 1 else "\n\n".join(f"{s};" for s in statements)


def connect(dialect: str, target: str | None, options: dict[str, Any] | None = None) -> Dao:
    """A Dao of ``dialect``'s connector; any failure to connect is a :class:`ConnectorError`."""
    from expsql import dialects

    chosen = dialects.get(dialect)
    try:
        return chosen.connect(target, **(options or {}))
    except ExpsqlError:
        raise
    except Exception as error:  # each client raises its own exception types
        raise ConnectorError(f"cannot connect to {dialect} at {target!r}: {_reason(error)}") from error


def open_dao(factory_get_dao: Callable[[], Dao], dialect: str) -> Dao:
    """A Dao from a factory; any failure of the factory is a :class:`ConnectorError`."""
    try:
        return factory_get_dao()
    except ExpsqlError:
        raise
    except Exception as error:
        raise ConnectorError(f"cannot connect to the {dialect} warehouse: {_reason(error)}") from error


def execute(dao: Dao, sql: str) -> tuple[pd.DataFrame, float]:
    """Run ``sql`` and return its rows and the seconds the query took."""
    started = time.perf_counter()
    try:
        frame = dao.execute(sql)
    except ExpsqlError:
        raise
    except Exception as error:
        raise ConnectorError(f"the warehouse refused the query: {_reason(error)}") from error
    return frame, time.perf_counter() - started


def run(
    experiment: Experiment,
    dao: Dao,
    *,
    dialect: str,
    rows: Rows = "metrics",
    source: AnySource | None = None,
    on_query: Callable[[str], None] | None = None,
    close: bool = True,
) -> Run:
    """Compile for ``dialect``, execute on ``dao`` (closed afterwards unless ``close=False``), evaluate.

    An experiment too large for the warehouse's query-length limit runs as several statements,
    one after another; :attr:`Run.sql` holds them all and :attr:`Run.query_seconds` their sum.

    :param on_query: called with the SQL just before it runs (the CLI shows it).
    """
    try:
        statements = compile_experiment(experiment, dialect, rows, source)
        sql = script(statements)
        if on_query is not None:
            on_query(sql)
        results = [execute(dao, statement) for statement in statements]
    finally:
        if close:
            dao.close()
    frame = results[0][0] if len(results) == 1 else pd.concat([f for f, _ in results], ignore_index=True)
    seconds = sum(s for _, s in results)
    return evaluated_run(experiment, dialect, rows, sql, frame, seconds, source)


def evaluated_run(
    experiment: Experiment,
    dialect: str,
    rows: Rows,
    sql: str,
    frame: pd.DataFrame,
    query_seconds: float,
    source: AnySource | None,
) -> Run:
    """The :class:`Run` of rows a query returned: their evaluation, timed."""
    from expsql.report.notebook import attach_renderings
    from expsql.stats import evaluate

    attach_renderings()  # a run's evaluation shows as the report in a notebook
    started = time.perf_counter()
    # The exposures layout excludes units exposed to several variants: say how many, even none.
    excluding = isinstance(source, ExposuresSource) and experiment.multiple_exposures == "exclude"
    evaluation = evaluate(experiment, frame, multiple_exposures=excluding or None)
    stats_seconds = time.perf_counter() - started
    return Run(experiment, dialect, rows, sql, frame, query_seconds, evaluation, stats_seconds)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
