"""Experiment filters compiled, run on DuckDB and compared with the pandas oracle of
:mod:`expsql.testing.reference`.

Every scope alone (goal filters with and without a goal, exposure filters, trigger filters with
and without a dimension), several together, filters beside overlapping goal terms (metric rows
then read the events table directly), typed values on an integer column, a source without an
``agg_type`` column, and random combinations.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expsql.compiler import compile_sql
from expsql.compiler.layouts import plan_query
from expsql.models import Experiment
from expsql.source import Columns, Source
from expsql.testing.events import DIMENSION_TYPES
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows, unit_rows

SOURCE = Source(dimensions=DIMENSION_TYPES)
REFERENCE = {"goals": goal_rows, "metrics": metric_rows, "units": unit_rows}
ROWS = list(REFERENCE)
EXPOSURE = "count(user.global.exposure)"
METRICS = [
    ("count(user.unit.click)", EXPOSURE),
    ("value(user.unit.conversion(product=^p_))", "unique(user.unit.view)"),
    ("unique(user.global.click)", "count(user.unit.view(price>3))"),
    ("count(session.unit.click)", "count(session.global.exposure)"),
]
#: Terms that overlap (``p_1`` is both), so metric rows take the from-events shape.
OVERLAPPING = [
    ("count(user.unit.click(product=p_1))", "count(user.unit.click(product=^p_))"),
    ("value(user.unit.conversion)", "count(user.unit.click)"),
]

GOAL = {"scope": "goal", "dimension": "product", "value": ["p_1", "p_2", "q_1"]}
GOAL_OF_CLICK = {"scope": "goal", "dimension": "price", "value": [1, 2, 3, 5, 8, 13], "goal": "click"}
EXPOSURE_FILTER = {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]}
TRIGGER = {"scope": "trigger", "goal": "view"}
TRIGGER_WITH_VALUE = {"scope": "trigger", "goal": "conversion", "dimension": "product", "value": ["p_1"]}
FILTERS: dict[str, list[dict[str, Any]]] = {
    "goal": [GOAL],
    "goal of one goal, integer values": [GOAL_OF_CLICK],
    "goal of the exposure goal": [
        {"scope": "goal", "dimension": "platform", "value": ["web"], "goal": "exposure"}
    ],
    "exposure": [EXPOSURE_FILTER],
    "trigger": [TRIGGER],
    "trigger with a value": [TRIGGER_WITH_VALUE],
    "all scopes together": [GOAL, EXPOSURE_FILTER, TRIGGER_WITH_VALUE],
    "goal filter before trigger": [GOAL_OF_CLICK, {"scope": "trigger", "goal": "click"}],
}


def experiment(metrics: list[tuple[str, str]], filters: list[dict[str, Any]], **fields: Any) -> Experiment:
    definition: dict[str, Any] = {"id": "exp-1", "control_variant": "a", "unit_type": "user", **fields}
    definition["metrics"] = [
        {"id": i, "name": f"metric {i}", "nominator": nominator, "denominator": denominator}
        for i, (nominator, denominator) in enumerate(metrics, start=1)
    ]
    definition["filters"] = filters
    return Experiment.model_validate(definition)


def run(
    connection: duckdb.DuckDBPyConnection,
    events: pd.DataFrame,
    definition: Experiment,
    rows: str,
    source: Source = SOURCE,
) -> pd.DataFrame:
    actual = connection.execute(compile_sql(definition, rows=rows, source=source)).df()
    expected = REFERENCE[rows](events, definition, source)
    assert len(expected) > 0, "a case whose oracle returns no rows tests nothing"
    assert_rows_equal(actual, expected)
    return actual


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("case", list(FILTERS))
def test_filtered_rows_equal_the_reference(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, case: str, rows: str
) -> None:
    filtered = run(database, events, experiment(METRICS, FILTERS[case]), rows)
    unfiltered = run(database, events, experiment(METRICS, []), rows)
    if case == "goal of the exposure goal" and rows == "metrics":
        # It drops only other unit types' exposures, which no exposed user unit has: a no-op here.
        assert_rows_equal(filtered, unfiltered)
    else:
        assert not _sorted(filtered).equals(_sorted(unfiltered)), "the filter should change these rows"


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("case", ["goal", "trigger with a value", "all scopes together"])
def test_filters_beside_overlapping_terms(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, case: str, rows: str
) -> None:
    definition = experiment(OVERLAPPING, FILTERS[case])
    assert len(plan_query(definition, SOURCE).layers) > 1
    run(database, events, definition, rows)


@pytest.mark.parametrize("rows", ROWS)
def test_filters_on_a_source_without_agg_type(events: pd.DataFrame, rows: str) -> None:
    frame = events.drop(columns=["agg_type"]).rename(columns={"goal": "Goal", "platform": "plat form"})
    connection = duckdb.connect(":memory:")
    connection.register("generated", frame)
    connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    source = Source(
        columns=Columns(agg_type=None, goal="Goal"),
        dimensions={"product": "string", "price": "integer", "plat form": "string"},
    )
    filters = [GOAL_OF_CLICK, {"scope": "trigger", "goal": "view"}]
    try:
        run(connection, frame, experiment(METRICS[:3], filters), rows, source=source)
    finally:
        connection.close()


FILTER_POOL = st.sampled_from(
    [
        GOAL,
        GOAL_OF_CLICK,
        EXPOSURE_FILTER,
        TRIGGER,
        TRIGGER_WITH_VALUE,
        {"scope": "goal", "dimension": "platform", "value": ["android"], "goal": "view"},
        {"scope": "trigger", "goal": "refund", "dimension": "price", "value": [0, 20, 7]},
        {"scope": "exposure", "dimension": "platform", "value": ["android"]},
    ]
)
METRIC_POOL = st.sampled_from(
    [*METRICS, *OVERLAPPING, ("count(user.unit.exposure)", "value(user.unit.refund)")]
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    metrics=st.lists(METRIC_POOL, min_size=1, max_size=3, unique=True),
    filters=st.lists(FILTER_POOL, min_size=1, max_size=3),
)
def test_random_filter_combinations_equal_the_reference(
    database: duckdb.DuckDBPyConnection,
    events: pd.DataFrame,
    metrics: list[tuple[str, str]],
    filters: list[dict[str, Any]],
) -> None:
    definition = experiment(metrics, filters)
    for rows in ROWS:
        actual = database.execute(compile_sql(definition, rows=rows, source=SOURCE)).df()
        assert_rows_equal(actual, REFERENCE[rows](events, definition, SOURCE))


@pytest.mark.parametrize("case", ["all scopes together", "trigger"])
def test_unit_rows_add_up_to_the_goal_rows(database: duckdb.DuckDBPyConnection, case: str) -> None:
    """Two contracts from two queries, one meaning: summing unit rows per term gives the goal rows."""
    definition = experiment(OVERLAPPING + METRICS[1:2], FILTERS[case])
    units = database.execute(compile_sql(definition, rows="units", source=SOURCE)).df()
    goals = database.execute(compile_sql(definition, rows="goals", source=SOURCE)).df()
    keys = [
        c
        for c in goals.columns
        if c not in ("count", "sum_sqr_count", "sum_value", "sum_sqr_value", "count_unique")
    ]
    units = units.assign(
        sum_sqr_count=units["count"] ** 2,
        sum_sqr_value=units["sum_value"] ** 2,
        count_unique=units["count"] > 0,
    )
    summed = units.groupby(keys, as_index=False)[
        ["count", "sum_sqr_count", "sum_value", "sum_sqr_value", "count_unique"]
    ].sum()
    assert len(summed) > 0
    assert_rows_equal(summed[list(goals.columns)], goals)
