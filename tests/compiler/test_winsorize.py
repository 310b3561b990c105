"""Winsorization in the metric-rows query: its shape, and on DuckDB the rows of the pandas oracle.

The oracle (:func:`expsql.testing.reference.winsorized`) clips each unit's nominator with pandas'
``Series.quantile`` of all exposed units, as ep-stats does by unit; the SQL must agree to 1e-9.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from expsql.compiler import compile_sql, compile_tree
from expsql.dialects import Dialect, get
from expsql.errors import MetricRowsRequired
from expsql.models import Experiment
from expsql.source import Source
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.reference import assert_rows_equal, metric_rows

SOURCE = Source(dimensions=DIMENSION_TYPES)
REVENUE = "value(user.unit.conversion)"
NET = "value(user.unit.conversion) - value(user.unit.refund)"
EXPOSURES = "count(user.global.exposure)"


def _window_percentile(target: exp.Expression, quantile: Decimal) -> exp.Expression:
    return exp.Window(
        this=exp.PercentileCont(this=target, expression=exp.Literal.number(str(quantile))), over="OVER"
    )


#: DuckDB with BigQuery's shape: the percentile as an analytic function, read from one row.
WINDOWED = Dialect("duckdb", "duckdb", percentile_function=_window_percentile, percentile_window=True)


def experiment(*metrics: tuple[str, str, float | None, float | None]) -> Experiment:
    definition: dict[str, Any] = {"id": "exp-1", "control_variant": "a", "unit_type": "user"}
    definition["metrics"] = [
        {
            "id": i,
            "name": f"metric {i}",
            "nominator": nominator,
            "denominator": denominator,
            "outlier_upper_percentile": upper,
            "outlier_lower_percentile": lower,
        }
        for i, (nominator, denominator, upper, lower) in enumerate(metrics, start=1)
    ]
    definition["checks"] = [{"id": 1, "name": "SRM", "denominator": EXPOSURES}]
    return Experiment.model_validate(definition)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(seed=5)


def _ctes(sql: str, dialect: str = "duckdb") -> list[str]:
    return [c.alias for c in sqlglot.parse_one(sql, read=dialect).find(exp.With).expressions]


def test_no_caps_compile_to_the_sql_without_the_fields() -> None:
    plain = experiment((REVENUE, EXPOSURES, None, None), (NET, EXPOSURES, None, None))
    zeros = experiment((REVENUE, EXPOSURES, 0, 0), (NET, EXPOSURES, None, 0))
    for name in ("duckdb", "postgres", "bigquery", "redshift"):
        assert compile_sql(zeros, name, "metrics") == compile_sql(plain, name, "metrics")
        assert "capped" not in compile_sql(zeros, name, "metrics")


def test_one_caps_table_per_nominator_and_one_capped_column_per_distinct_caps() -> None:
    definition = experiment(
        (REVENUE, EXPOSURES, 5, None),
        (REVENUE, "count(user.unit.view)", 5, None),  # same caps: shares the capped column
        (REVENUE, EXPOSURES, 20, None),  # other caps: its own column, same caps table
        (NET, EXPOSURES, 1, 1),
    )
    sql = compile_sql(definition, "redshift", "metrics")
    assert _ctes(sql, "redshift")[-4:] == [
        "nominator_caps_0",
        "nominator_caps_1",
        "capped_metrics",
        "variant_sums",
    ]
    capped = sqlglot.parse_one(sql, read="redshift").find(exp.With).expressions[-2].this
    names = [s.alias for s in capped.selects[1:]]
    assert len(names) == len(set(names)) == 3 and all(n.startswith("capped_") for n in names)
    # Redshift: every PERCENTILE_CONT of one SELECT orders by the same column.
    for caps in sqlglot.parse_one(sql, read="redshift").find(exp.With).expressions[-4:-2]:
        orders = {o.this.name for o in caps.this.find_all(exp.Ordered)}
        assert len(orders) == 1


def test_goal_rows_of_a_winsorized_metric_are_refused_in_every_dialect() -> None:
    definition = experiment((REVENUE, EXPOSURES, 1, None))
    for name in ("duckdb", "spark"):
        with pytest.raises(MetricRowsRequired, match=r"metric 1 \(metric 1\) caps outliers.*Use metric rows"):
            compile_sql(definition, name, "goals")
    assert compile_tree(definition, "metrics") is not None


CASES = {
    "upper": [(REVENUE, EXPOSURES, 5, None)],
    "lower": [("count(user.unit.click) - count(user.unit.view)", EXPOSURES, None, 10)],
    "both": [(NET, EXPOSURES, 2.5, 7)],
    "shared nominator": [
        (REVENUE, EXPOSURES, 5, None),
        (REVENUE, EXPOSURES, 20, None),
        (REVENUE, "count(user.unit.view)", 20, 3),
        (REVENUE, EXPOSURES, None, None),
    ],
    "compound ratio": [("count(user.unit.click) / count(user.unit.view)", "unique(user.unit.view)", 10, 10)],
}


@pytest.mark.parametrize("dialect", [get("duckdb"), WINDOWED], ids=["aggregate", "analytic"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_duckdb_rows_equal_the_pandas_oracle(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, case: str, dialect: Dialect
) -> None:
    definition = experiment(*CASES[case])
    actual = database.execute(compile_sql(definition, dialect, "metrics", SOURCE)).df()
    expected = metric_rows(events, definition, SOURCE)
    uncapped = metric_rows(events, experiment(*[(n, d, None, None) for n, d, _, _ in CASES[case]]), SOURCE)
    assert_rows_equal(actual, expected)
    # The caps bite: some metric's sums differ from the uncapped ones.
    assert not (expected["sum_x2"].to_numpy() == uncapped["sum_x2"].to_numpy()).all()


def test_experiment_without_exposed_units_returns_no_rows(database: duckdb.DuckDBPyConnection) -> None:
    definition = experiment((REVENUE, EXPOSURES, 5, 5)).model_copy(update={"id": "no-such-experiment"})
    assert len(database.execute(compile_sql(definition, "duckdb", "metrics", SOURCE)).df()) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    upper=st.one_of(st.none(), st.floats(0, 49.99)),
    lower=st.one_of(st.none(), st.floats(0, 49.99)),
    nominator=st.sampled_from([REVENUE, NET, "count(user.unit.click) * 2 - unique(user.unit.view)"]),
)
def test_any_percentiles_match_the_oracle(
    database: duckdb.DuckDBPyConnection,
    events: pd.DataFrame,
    upper: float | None,
    lower: float | None,
    nominator: str,
) -> None:
    definition = experiment((nominator, EXPOSURES, upper, lower))
    actual = database.execute(compile_sql(definition, "duckdb", "metrics", SOURCE)).df()
    assert_rows_equal(actual, metric_rows(events, definition, SOURCE))
