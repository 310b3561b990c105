"""Breakdowns in the compiler: the plan's refusals, and on DuckDB the rows of every segment equal
the pandas oracle run on the segment's units and add up to the rows without a breakdown, in both
layouts, with filters, overlapping terms, winsorization and CUPED."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlglot

from expsql.compiler import compile_sql
from expsql.errors import ExperimentError, MetricRowsRequired
from expsql.models import Experiment
from expsql.source import Source, validate_source
from expsql.stats.breakdowns import summed
from expsql.testing import attribution_reference
from expsql.testing import reference as seed_reference
from expsql.testing.attribution_reference import assert_rows_equal
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.exposure_events import SOURCE as EXPOSURES_SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events
from expsql.testing.segment_reference import attributed_rows, exposures_rows, labelled

SEED_SOURCE = Source(dimensions=DIMENSION_TYPES)
EXPOSURES = validate_source(EXPOSURES_SOURCE)
CONTRACTS = ("goals", "metrics", "units")
METRICS = [
    ("count(user.unit.click)", "count(user.global.exposure)"),
    ("value(user.unit.conversion(product=p_1))", "count(user.unit.click(product=^p_))"),
    ("count(user.unit.view(product=p_1|p_10))", "count(user.unit.view(product=^p_))"),
]


def experiment(metrics: list[tuple[str, str]], **fields: Any) -> Experiment:
    definition: dict[str, Any] = {"id": "exp-1", "control_variant": "a", "unit_type": "user", **fields}
    definition["metrics"] = [
        {"id": i, "name": f"metric {i}", "nominator": n, "denominator": d}
        for i, (n, d) in enumerate(metrics, 1)
    ]
    return Experiment.model_validate(definition)


def with_exposure_ties(events: pd.DataFrame) -> pd.DataFrame:
    """Units whose earliest exposure day also holds an exposure with a NULL platform (which must
    not decide) or with a platform that sorts first (which must)."""
    exposures = events[(events["goal"] == "exposure") & (events["exp_id"] == "exp-1")]
    earliest = exposures.sort_values("date", kind="stable").drop_duplicates(["exp_variant_id", "unit_id"])
    null_tie = earliest.iloc[0:40:2].assign(platform=None)
    first_tie = earliest.iloc[1:40:2].assign(platform="aaa")
    return pd.concat([events, null_tie, first_tie], ignore_index=True)


@pytest.fixture(scope="module")
def seed_database() -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    events = with_exposure_ties(generate_events(seed=3))
    connection = duckdb.connect()
    connection.register("generated", events)
    connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    return connection, events


@pytest.fixture(scope="module")
def exposures_database() -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame, pd.DataFrame]:
    exposures, events = generate_exposures_and_events(seed=5, units=250)
    connection = duckdb.connect()
    for name, frame in (("exposures", exposures), ("events", events)):
        connection.register("generated", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM generated")
        connection.unregister("generated")
    return connection, exposures, events


# --- refusals, before any SQL ------------------------------------------------------------------


def test_an_undeclared_dimension_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ExperimentError,
        match=r"'platfrom' is not declared in the source's dimensions.*Did you mean 'platform'\?",
    ):
        compile_sql(experiment(METRICS[:1], breakdown=["platfrom"]), dialect="duckdb", source=SEED_SOURCE)


def test_an_event_dimension_is_no_exposure_attribute_in_the_exposures_layout() -> None:
    with pytest.raises(ExperimentError, match=r"exposures\.dimensions \(declared: 'platform', 'country'\)"):
        compile_sql(experiment(METRICS[:1], breakdown=["product"]), dialect="duckdb", source=EXPOSURES)


def test_a_dimension_a_metric_filters_on_is_refused() -> None:
    with pytest.raises(ExperimentError, match="'product' is also a dimension a metric filters on"):
        compile_sql(experiment(METRICS, breakdown=["product"]), dialect="duckdb", source=SEED_SOURCE)


def test_a_dimension_named_like_a_contract_column_is_refused() -> None:
    source = Source(dimensions={"metric_id": "string"})
    with pytest.raises(ExperimentError, match="'metric_id' has the name of a row-contract column"):
        compile_sql(experiment(METRICS[:1], breakdown=["metric_id"]), dialect="duckdb", source=source)


def test_a_duplicate_dimension_is_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="breakdown names 'platform' more than once"):
        experiment(METRICS[:1], breakdown=["platform", "platform"])


def test_goal_rows_are_still_refused_for_a_winsorized_metric() -> None:
    winsorized = Experiment.model_validate(
        {
            "id": "exp-1",
            "control_variant": "a",
            "unit_type": "user",
            "breakdown": ["platform"],
            "metrics": [
                {
                    "id": 1,
                    "name": "m",
                    "nominator": METRICS[0][0],
                    "denominator": METRICS[0][1],
                    "outlier_upper_percentile": 1,
                }
            ],
        }
    )
    with pytest.raises(MetricRowsRequired, match="Use metric rows"):
        compile_sql(winsorized, dialect="duckdb", rows="goals", source=SEED_SOURCE)


def test_hostile_dimension_names_stay_identifiers() -> None:
    name = 'x" OR 1=1; --'
    source = Source(dimensions={name: "string"})
    sql = compile_sql(
        experiment(METRICS[:1], breakdown=[name]), dialect="postgres", rows="metrics", source=source
    )
    (statement,) = sqlglot.parse(sql, read="postgres")
    assert statement is not None
    names = {identifier.name for identifier in statement.find_all(sqlglot.exp.Identifier)}
    assert name in names
    assert not list(statement.find_all(sqlglot.exp.Or))


# --- rows: the oracle, and segments adding up -------------------------------------------------


SEED_CASES = {
    "plain": experiment(METRICS, breakdown=["platform"]),
    # No value(): the metric rows' scan, read twice, leaves the value out (both scan shapes).
    "counts only": experiment([METRICS[0], METRICS[2]], breakdown=["platform"]),
    "dated, filtered, two dimensions": experiment(
        METRICS,
        breakdown=["platform", "price"],
        date_from="2024-03-02",
        date_to="2024-03-10",
        filters=[
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10", "q_1"], "goal": "conversion"},
            {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
        ],
    ),
}


@pytest.mark.parametrize("rows", CONTRACTS)
@pytest.mark.parametrize("case", list(SEED_CASES))
def test_attributed_layout_segments_equal_the_oracle(rows: str, case: str, seed_database: Any) -> None:
    connection, events = seed_database
    chosen = SEED_CASES[case]
    if case != "plain":  # price breaks down the units too: an integer attribute
        chosen = chosen.model_copy(update={"breakdown": ["platform"]})
    reference = {
        "goals": seed_reference.goal_rows,
        "metrics": seed_reference.metric_rows,
        "units": seed_reference.unit_rows,
    }
    actual = connection.execute(compile_sql(chosen, dialect="duckdb", rows=rows, source=SEED_SOURCE)).df()
    expected = attributed_rows(reference[rows], events, chosen, SEED_SOURCE)
    assert_rows_equal(labelled(actual, ["platform"]), expected)


@pytest.mark.parametrize("rows", CONTRACTS)
@pytest.mark.parametrize("case", list(SEED_CASES))
def test_attributed_layout_segments_add_up_to_the_overall_rows(
    rows: str, case: str, seed_database: Any
) -> None:
    connection, _ = seed_database
    chosen = SEED_CASES[case]
    plain = chosen.model_copy(update={"breakdown": []})
    actual = connection.execute(compile_sql(chosen, dialect="duckdb", rows=rows, source=SEED_SOURCE)).df()
    overall = connection.execute(compile_sql(plain, dialect="duckdb", rows=rows, source=SEED_SOURCE)).df()
    assert actual[list(chosen.breakdown)].drop_duplicates().shape[0] > 2
    assert_rows_equal(summed(actual, list(chosen.breakdown)), overall)


EXPOSURE_CASES = {
    "plain": experiment(
        METRICS, breakdown=["country", "platform"], date_from="2024-03-01", date_to="2024-03-07"
    ),
    "filtered, CUPED, winsorized": experiment(
        METRICS,
        breakdown=["country"],
        cuped_lookback_days=7,
        filters=[{"scope": "trigger", "goal": "view"}],
    ),
}


@pytest.mark.parametrize("rows", CONTRACTS)
def test_exposures_layout_segments_equal_the_oracle(rows: str, exposures_database: Any) -> None:
    connection, exposures, events = exposures_database
    chosen = EXPOSURE_CASES["plain"]
    reference = {
        "goals": attribution_reference.goal_rows,
        "metrics": attribution_reference.metric_rows,
        "units": attribution_reference.unit_rows,
    }
    actual = connection.execute(compile_sql(chosen, dialect="duckdb", rows=rows, source=EXPOSURES)).df()
    expected = exposures_rows(reference[rows], exposures, events, chosen, EXPOSURES)
    assert_rows_equal(labelled(actual, list(chosen.breakdown)), expected)


@pytest.mark.parametrize("rows", CONTRACTS)
@pytest.mark.parametrize("case", list(EXPOSURE_CASES))
def test_exposures_layout_segments_add_up_to_the_overall_rows(
    rows: str, case: str, exposures_database: Any
) -> None:
    connection, _, _ = exposures_database
    chosen = EXPOSURE_CASES[case]
    if case != "plain" and rows == "metrics":  # winsorized: the caps are pooled over every segment
        metric = chosen.metrics[0].model_copy(update={"outlier_upper_percentile": 5.0})
        chosen = chosen.model_copy(update={"metrics": [metric, *chosen.metrics[1:]]})
    if case != "plain" and rows == "goals":
        chosen = chosen.model_copy(update={"cuped_lookback_days": None})
    plain = chosen.model_copy(update={"breakdown": []})
    actual = connection.execute(compile_sql(chosen, dialect="duckdb", rows=rows, source=EXPOSURES)).df()
    overall = connection.execute(compile_sql(plain, dialect="duckdb", rows=rows, source=EXPOSURES)).df()
    assert actual[list(chosen.breakdown)].drop_duplicates().shape[0] > 2
    assert_rows_equal(summed(actual, list(chosen.breakdown)), overall)


def test_without_a_breakdown_the_sql_has_no_segment() -> None:
    sql = compile_sql(experiment(METRICS), dialect="duckdb", rows="metrics", source=SEED_SOURCE)
    assert "segment" not in sql
