"""Golden SQL: every case in ``tests/golden/<case>.yaml`` compiled for every dialect and row contract.

A case file holds ``experiment`` (as in an experiment file) and optionally ``source``; the expected
SQL lives in ``tests/golden/<case>/<dialect>.<rows>.sql``. Review a change of the compiler by
reading the diff of these files. To regenerate them after an intended change, run::

    EXPSQL_UPDATE_GOLDEN=1 pytest tests/test_golden.py

Every golden must parse back with sqlglot as exactly one statement of its dialect, and the DuckDB
goldens of cases on the default events table run against :func:`expsql.testing.events.generate_events`
and must return the rows of :mod:`expsql.testing.reference`.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml

from expsql.compiler import ROWS, compile_sql
from expsql.dialects import available, get
from expsql.dialects.registry import default_registry
from expsql.errors import MetricRowsRequired
from expsql.models import Experiment, validate_experiment
from expsql.source import AnySource, Columns, Source, validate_source
from expsql.stats.timeline import row_days, rows_as_of
from expsql.testing.events import generate_events
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows, unit_rows
from expsql.testing.segment_reference import attributed_rows, labelled

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.yaml"))
UPDATE = os.environ.get("EXPSQL_UPDATE_GOLDEN", "") not in ("", "0")

#: The dialects that ship with expsql; an installed third-party plugin does not change the goldens.
BUILT_IN = [name for name in available() if default_registry().origin(name) == "built-in"]


def load_case(case: str) -> tuple[Experiment, AnySource]:
    data = yaml.safe_load((GOLDEN / f"{case}.yaml").read_text(encoding="utf-8"))
    experiment = validate_experiment(data["experiment"], origin=case)
    return experiment, validate_source(data.get("source") or {}, origin=case)


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("dialect", BUILT_IN)
@pytest.mark.parametrize("case", CASES)
def test_compiled_sql_equals_the_golden_file(case: str, dialect: str, rows: str) -> None:
    experiment, source = load_case(case)
    if not _compiles(case, rows):
        with pytest.raises(MetricRowsRequired, match="Use metric rows"):  # TimelineError is one
            compile_sql(experiment, dialect=dialect, rows=rows, source=source)
        return
    sql = compile_sql(experiment, dialect=dialect, rows=rows, source=source) + "\n"
    path = GOLDEN / case / f"{dialect}.{rows}.sql"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"no golden {path}: run EXPSQL_UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    expected = path.read_text(encoding="utf-8")
    assert sql == expected
    statements = sqlglot.parse(expected, read=get(dialect).sqlglot_dialect)
    assert len(statements) == 1 and statements[0] is not None


def test_every_golden_file_belongs_to_a_case() -> None:
    expected = {f"{c}/{d}.{r}.sql" for c in CASES for d in BUILT_IN for r in ROWS if _compiles(c, r)}
    present = {str(p.relative_to(GOLDEN)) for p in GOLDEN.glob("*/*.sql")}
    assert present <= expected, f"stale goldens: {sorted(present - expected)}"


def _compiles(case: str, rows: str) -> bool:
    """Goal rows of a winsorized experiment are refused, so they have no golden (unit rows carry
    the per-unit values the stats module caps); nor have goal and unit rows of an experiment whose
    metrics set their own attribution windows, nor goal and unit rows of quantile metrics."""
    experiment = load_case(case)[0]
    if experiment.timeline is not None or experiment.quantile_metrics():
        return rows == "metrics"
    if rows == "goals":
        return not experiment.needs_metric_rows()
    return rows == "metrics" or not experiment.windows_differ()


@pytest.fixture(scope="module")
def duckdb_events() -> tuple[duckdb.DuckDBPyConnection, object]:
    events = generate_events(seed=3)
    connection = duckdb.connect(":memory:")
    connection.register("generated", events)
    connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    return connection, events


EXECUTABLE = [
    (case, rows)
    for case in CASES
    for rows in ROWS
    if isinstance(load_case(case)[1], Source)
    and load_case(case)[1].table == "events"
    and load_case(case)[1].columns == Columns()
    and _compiles(case, rows)
]


@pytest.mark.parametrize(("case", "rows"), EXECUTABLE)
def test_duckdb_golden_returns_the_reference_rows(duckdb_events: tuple, case: str, rows: str) -> None:
    connection, events = duckdb_events
    experiment, source = load_case(case)
    sql = (GOLDEN / case / f"duckdb.{rows}.sql").read_text(encoding="utf-8")
    actual = connection.execute(sql).df()
    oracle = {"goals": goal_rows, "metrics": metric_rows, "units": unit_rows}[rows]
    if experiment.breakdown:  # the oracle per segment, the segments as the stats label them
        expected = attributed_rows(oracle, events, experiment, source)
        actual = labelled(actual, list(experiment.breakdown))
    else:
        expected = oracle(events, experiment.model_copy(update={"timeline": None}), source)
    if experiment.timeline is not None:  # the last day's rows: every day's are in test_timeline
        assert experiment.date_to is not None
        actual = rows_as_of(actual, row_days(actual), experiment.date_to, segments=experiment.breakdown)
    assert len(expected) > 0
    assert_rows_equal(actual, expected)
