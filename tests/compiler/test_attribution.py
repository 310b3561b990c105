"""The exposures-and-events layout at compile time: what is refused before SQL, what the one
query reads (each table once, only the columns it needs, within the pruning bounds), and the
names of the new source keys taken literally. Execution is in tests/engines/test_exposures_engines.py."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.dialects import available, get
from expsql.dialects.registry import default_registry
from expsql.errors import ExperimentError, MetricRowsRequired
from expsql.models import Experiment
from expsql.source import Source, validate_source

BUILT_IN = [name for name in available() if default_registry().origin(name) == "built-in"]
SOURCE = validate_source(
    {
        "exposures": {"dimensions": {"platform": "string"}},
        "events": {"dimensions": {"product": "string"}, "partition_date": "event_date"},
    }
)


def experiment(*metrics: dict[str, Any], **fields: Any) -> Experiment:
    defaults: dict[str, Any] = {"id": "exp-1", "control_variant": "a", "unit_type": "user"}
    numbered = [{"id": i, "name": f"m{i}", **m} for i, m in enumerate(metrics, start=1)]
    return Experiment.model_validate({**defaults, **fields, "metrics": numbered})


CLICKS = {"nominator": "count(user.unit.click)", "denominator": "count(user.global.exposure)"}
REVENUE = {"nominator": "value(user.unit.conversion(product=p_1))", "denominator": "unique(user.unit.view)"}


def tables_read(sql: str, dialect: str) -> list[str]:
    """The source tables a query reads (CTE names left out), once per reference."""
    tree = sqlglot.parse_one(sql, read=get(dialect).sqlglot_dialect)
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    return sorted(t.name for t in tree.find_all(exp.Table) if t.name not in ctes)


@pytest.mark.parametrize("rows", ["goals", "metrics", "units"])
@pytest.mark.parametrize("dialect", BUILT_IN)
def test_each_table_is_read_once(dialect: str, rows: str) -> None:
    sql = compile_sql(experiment(CLICKS, REVENUE), dialect=dialect, rows=rows, source=SOURCE)
    assert tables_read(sql, dialect) == ["events", "exposures"]


def events_columns_read(sql: str) -> set[str]:
    """The columns of the raw events table the query names (in the SELECT that reads it)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    reads = [s for s in tree.find_all(exp.Select) if s.args["from_"].this.name == "events"]
    return {c.name for select in reads for c in select.find_all(exp.Column) if c.table == "events"}


@pytest.mark.parametrize(
    ("metrics", "rows", "reads_value"),
    [((CLICKS,), "metrics", False), ((CLICKS, REVENUE), "metrics", True), ((CLICKS,), "goals", True)],
)
def test_the_events_value_is_read_only_when_a_metric_reads_it(
    metrics: tuple[dict[str, Any], ...], rows: str, reads_value: bool
) -> None:
    sql = compile_sql(experiment(*metrics), rows=rows, source=SOURCE)
    assert ("value" in events_columns_read(sql)) is reads_value


def test_a_metric_of_another_unit_type_is_refused_before_sql() -> None:
    session_metric = {"nominator": "count(session.unit.click)", "denominator": "count(user.global.exposure)"}
    with pytest.raises(ExperimentError, match=r"session\.unit\.click.*exposures\.unit_type"):
        compile_sql(experiment(CLICKS, session_metric), rows="metrics", source=SOURCE)
    with pytest.raises(ExperimentError, match=r"exposures\.unit_type"):
        compile_sql(experiment(CLICKS, unit_type="session"), rows="metrics", source=SOURCE)


def test_attribution_windows_need_the_exposures_layout() -> None:
    windowed = experiment(CLICKS, conversion_window_hours=24)
    with pytest.raises(ExperimentError, match="need the exposures-and-events layout"):
        compile_sql(windowed, rows="metrics", source=Source())
    compile_sql(windowed, rows="metrics", source=SOURCE)


@pytest.mark.parametrize("rows", ["goals", "units"])
def test_metrics_with_their_own_windows_need_metric_rows(rows: str) -> None:
    windowed = experiment(CLICKS, {**CLICKS, "conversion_window_hours": 24})
    with pytest.raises(MetricRowsRequired, match=r"metric 2 \(m2\) sets its own attribution window"):
        compile_sql(windowed, rows=rows, source=SOURCE)


def test_one_window_for_every_metric_serves_every_contract() -> None:
    same = experiment(CLICKS, {**CLICKS, "conversion_window_hours": 24}, conversion_window_hours=24)
    for rows in ("goals", "metrics", "units"):
        compile_sql(same, rows=rows, source=SOURCE)


def where_conditions(sql: str, dialect: str, table: str) -> list[str]:
    """The conjuncts of the WHERE of the SELECT that reads ``table``, as DuckDB SQL unquoted."""
    tree = sqlglot.parse_one(sql, read=get(dialect).sqlglot_dialect)
    (select,) = [
        s
        for s in tree.find_all(exp.Select)
        if any(t.name == table for t in s.args["from_"].find_all(exp.Table))
    ]
    return [c.sql("duckdb").replace('"', "") for c in select.args["where"].this.flatten()]


def test_the_events_scan_is_bounded_to_what_any_metric_can_read() -> None:
    windowed = experiment(
        CLICKS,
        {**REVENUE, "conversion_delay_hours": 2},
        date_from="2024-03-01",
        date_to="2024-03-07",
        conversion_delay_hours=1,
    )
    conditions = where_conditions(compile_sql(windowed, rows="metrics", source=SOURCE), "duckdb", "events")
    # The smallest delay of any metric (1 h) after the first day, to the end of the last day.
    assert "events.timestamp >= CAST('2024-03-01 01:00:00' AS TIMESTAMP)" in conditions
    assert "events.timestamp < CAST('2024-03-08 00:00:00' AS TIMESTAMP)" in conditions
    assert "events.event_date >= CAST('2024-03-01' AS DATE)" in conditions
    assert "events.event_date < CAST('2024-03-08' AS DATE)" in conditions
    assert "events.event IN ('click', 'conversion', 'view')" in conditions


def test_without_a_date_window_only_the_attribution_rules_bound_the_events() -> None:
    conditions = where_conditions(
        compile_sql(experiment(CLICKS), rows="metrics", source=SOURCE), "duckdb", "events"
    )
    assert conditions == ["events.event = 'click'", "events.timestamp >= exposed_units.first_exposure"]


def test_only_the_columns_the_query_needs_are_read() -> None:
    sql = compile_sql(experiment(CLICKS), dialect="duckdb", rows="metrics", source=SOURCE)
    tree = sqlglot.parse_one(sql, read="duckdb")
    read = {(c.table, c.name) for c in tree.find_all(exp.Column) if c.table in ("events", "exposures")}
    events = {
        name for table, name in read if table == "events" and name in ("product", "value", "event_date")
    }
    exposures = {name for table, name in read if table == "exposures" and name == "platform"}
    assert not events - {"value"} and not exposures  # dimensions no metric or filter reads stay unread


HOSTILE_NAMES = ["it's", 'say "hi"', "`x`", "a;b", "x -- y", "naïve café", "'; DROP TABLE t; --"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("dialect", BUILT_IN)
def test_hostile_table_and_column_names_are_quoted_exactly(name: str, dialect: str) -> None:
    source = validate_source(
        {
            "exposures": {"table": f"{name}.exposures", "columns": {"variant": name}},
            "events": {"table": name, "columns": {"goal": f"{name} goal", "timestamp": f"{name} ts"}},
        }
    )
    sql = compile_sql(experiment(CLICKS), dialect=dialect, rows="metrics", source=source)
    statements = sqlglot.parse(sql, read=get(dialect).sqlglot_dialect)
    assert len(statements) == 1
    tree = statements[0]
    assert tree is not None
    names = {i.this for i in tree.find_all(exp.Identifier)}
    assert {name, f"{name} goal", f"{name} ts"} <= names
    assert not list(tree.find_all(exp.Drop)) and not list(tree.find_all(exp.Command))


def test_a_nul_in_a_new_key_is_refused_before_sql() -> None:
    source = validate_source({"exposures": {"columns": {"variant": "a\x00b"}}, "events": {}})
    with pytest.raises(ExperimentError, match=r"exposures\.columns\.variant .* holds a NUL"):
        compile_sql(experiment(CLICKS), rows="metrics", source=source)


def test_a_name_postgres_would_cut_is_refused() -> None:
    source = validate_source({"exposures": {}, "events": {"columns": {"timestamp": "t" * 64}}})
    with pytest.raises(ExperimentError, match=r"events\.columns\.timestamp .* 64 bytes"):
        compile_sql(experiment(CLICKS), dialect="postgres", rows="metrics", source=source)
