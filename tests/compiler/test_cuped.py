"""CUPED at compile time: what is refused, and what the one query adds (the pre-exposure period in
the same scan, covariate columns only where a metric is adjusted). Execution against the oracle is
in tests/engines/test_cuped_engines.py."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.contracts import METRIC_COVARIATE_VALUES, METRIC_VALUES, UNIT_COVARIATE_VALUES, UNIT_VALUES
from expsql.errors import ExperimentError, MetricRowsRequired
from expsql.models import Experiment
from expsql.source import Source, validate_source
from tests.compiler.test_attribution import where_conditions

SOURCE = validate_source({"exposures": {}, "events": {"dimensions": {"product": "string"}}})
CLICKS = {"nominator": "count(user.unit.click)", "denominator": "count(user.global.exposure)"}
REVENUE = {"nominator": "value(user.unit.purchase(product=p_1))", "denominator": "unique(user.unit.view)"}


def experiment(*metrics: dict[str, Any], **fields: Any) -> Experiment:
    base: dict[str, Any] = {
        "id": "exp-1",
        "control_variant": "a",
        "unit_type": "user",
        "cuped_lookback_days": 14,
    }
    numbered = [{"id": i, "name": f"m{i}", **m} for i, m in enumerate(metrics, start=1)]
    return Experiment.model_validate({**base, **fields, "metrics": numbered})


def output_columns(sql: str) -> list[str]:
    return [e.alias_or_name for e in sqlglot.parse_one(sql, read="duckdb").expressions]


def test_metric_rows_add_the_covariate_sums() -> None:
    sql = compile_sql(experiment(CLICKS, REVENUE), rows="metrics", source=SOURCE)
    assert output_columns(sql)[3:] == [*METRIC_VALUES, *METRIC_COVARIATE_VALUES]


def test_unit_rows_add_the_pre_exposure_sums() -> None:
    sql = compile_sql(experiment(CLICKS, REVENUE), rows="units", source=SOURCE)
    assert output_columns(sql)[-4:] == [*UNIT_VALUES, *UNIT_COVARIATE_VALUES]


def test_without_an_adjusted_metric_the_sql_is_the_plain_one() -> None:
    opted_out = experiment({**CLICKS, "cuped": False})
    plain = experiment(CLICKS, cuped_lookback_days=None)
    for rows in ("metrics", "units"):
        assert compile_sql(opted_out, rows=rows, source=SOURCE) == compile_sql(
            plain, rows=rows, source=SOURCE
        )


def test_goal_rows_of_an_adjusted_experiment_are_refused() -> None:
    with pytest.raises(MetricRowsRequired, match=r"cuped_lookback_days adjusts metrics 1 \(m1\)"):
        compile_sql(experiment(CLICKS), rows="goals", source=SOURCE)


def test_cuped_needs_the_exposures_layout() -> None:
    with pytest.raises(ExperimentError, match="cuped_lookback_days needs the exposures-and-events layout"):
        compile_sql(experiment(CLICKS), rows="metrics", source=Source())


def test_the_scan_reaches_back_by_the_lookback() -> None:
    dated = experiment(CLICKS, date_from="2024-03-01", date_to="2024-03-07", conversion_delay_hours=1)
    conditions = where_conditions(compile_sql(dated, rows="metrics", source=SOURCE), "duckdb", "events")
    assert "events.timestamp >= CAST('2024-02-16 00:00:00' AS TIMESTAMP)" in conditions
    attribution = next(c for c in conditions if " OR " in c)
    assert "events.timestamp >= exposed_units.first_exposure - INTERVAL '1209600' SECOND" in attribution
    assert "events.timestamp < exposed_units.first_exposure" in attribution
    assert "events.timestamp >= exposed_units.first_exposure + INTERVAL '3600' SECOND" in attribution


def test_each_table_is_still_read_once() -> None:
    sql = compile_sql(experiment(CLICKS, REVENUE), rows="metrics", source=SOURCE)
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    assert sorted(t.name for t in tree.find_all(exp.Table) if t.name not in ctes) == ["events", "exposures"]


def test_a_trigger_never_fires_on_pre_exposure_events() -> None:
    triggered = experiment(CLICKS, filters=[{"scope": "trigger", "goal": "view"}])
    sql = compile_sql(triggered, rows="metrics", source=SOURCE)
    flag = next(
        a for a in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Alias) if a.alias == "unit_filter_0"
    )
    assert "pre_period = 0" in flag.sql("duckdb").replace('"', "")
