"""Compile, run on DuckDB in-process, compare with the pandas oracle of :mod:`expsql.testing.reference`.

Both row contracts, every dimension operator on a string and an integer column, overlapping
filters, compound metrics, several experiments in one table, date windows, checks, a source with
hostile names and no ``agg_type`` column; each ``=^`` case twice, with the dialect's prefix
function and with the escaped ``LIKE`` that dialects without one get.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expsql.compiler import compile_sql
from expsql.dialects import Dialect, get
from expsql.models import Experiment
from expsql.source import Columns, Source
from expsql.testing.events import DIMENSION_TYPES
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows, unit_rows

SOURCE = Source(dimensions=DIMENSION_TYPES)
NATIVE = get("duckdb")
#: DuckDB rendering ``=^`` as ``LIKE ... ESCAPE``, as for dialects without a prefix function.
LIKE = Dialect("duckdb", "duckdb", native_prefix_match=False)
REFERENCE = {"goals": goal_rows, "metrics": metric_rows, "units": unit_rows}


def experiment(*metrics: tuple[str, str], **fields: Any) -> Experiment:
    definition: dict[str, Any] = {"id": "exp-1", "control_variant": "a", "unit_type": "user", **fields}
    definition["metrics"] = [
        {"id": i, "name": f"metric {i}", "nominator": nominator, "denominator": denominator}
        for i, (nominator, denominator) in enumerate(metrics, start=1)
    ]
    return Experiment.model_validate(definition)


def assert_matches_reference(
    connection: duckdb.DuckDBPyConnection,
    events: pd.DataFrame,
    definition: Experiment,
    rows: str,
    *,
    source: Source = SOURCE,
    dialect: Dialect = NATIVE,
) -> pd.DataFrame:
    actual = connection.execute(compile_sql(definition, dialect=dialect, rows=rows, source=source)).df()
    expected = REFERENCE[rows](events, definition, source)
    assert len(expected) > 0, "a case whose oracle returns no rows tests nothing"
    assert_rows_equal(actual, expected)
    return actual


EXPOSURE = "count(user.global.exposure)"
CASES: dict[str, list[tuple[str, str]]] = {
    "plain goals": [
        ("count(user.unit.click)", EXPOSURE),
        ("value(user.unit.conversion)", "unique(user.unit.view)"),
        ("unique(user.unit.refund)", "count(user.global.click)"),
    ],
    "string equality and alternatives": [
        ("value(user.unit.conversion(product=p_1))", EXPOSURE),
        ("count(user.unit.click(product=p_1|p_10))", EXPOSURE),
        ("count(user.unit.view(product!=p_1))", EXPOSURE),
        ("count(user.unit.refund(product!=p_1|p_2))", EXPOSURE),
    ],
    "percent and underscore are literal in equality": [
        ("count(user.unit.click(product=p%1))", "count(user.unit.view(product=p_1|pa1))"),
    ],
    "string order": [
        ("count(user.unit.click(product<p_2))", "count(user.unit.view(product>=p_10))"),
        ("count(user.unit.conversion(product>pa1))", "count(user.unit.refund(product<=p_1))"),
    ],
    "integer comparisons compare numbers": [
        ("count(user.unit.click(price>9))", "count(user.unit.click(price<10))"),
        ("value(user.unit.view(price>=10))", "value(user.unit.view(price<=2))"),
        ("count(user.unit.conversion(price=10))", "count(user.unit.conversion(price!=10))"),
        ("count(user.unit.refund(price=1|2|3))", "count(user.unit.refund(price!=0|20))"),
    ],
    "prefix matches escape LIKE wildcards": [
        ("count(user.unit.click(product=^p_))", "count(user.unit.view(product=^p%))"),
        ("value(user.unit.conversion(product=^p_1|q))", EXPOSURE),
    ],
    "overlapping filters count an event in every term": [
        ("count(user.unit.click(product=p_1))", "count(user.unit.click(product=^p_))"),
        ("count(user.unit.click)", "count(user.unit.click(product=p_1|p_2, price>5))"),
        ("count(user.unit.click(price>=5))", "count(user.unit.click(price<8))"),
    ],
    "several dimensions on one goal": [
        (
            "value(user.unit.conversion(product=^p_, price>10))",
            "count(user.unit.conversion(product=p_2, price<=10))",
        ),
    ],
    "compound metrics": [
        (
            "value(user.unit.conversion) - value(user.unit.refund)",
            "count(user.unit.view) + 2 * count(user.unit.click)",
        ),
        ("unique(user.unit.conversion) ~ unique(user.unit.refund)", "-count(user.unit.view) * -1"),
        (
            "count(user.unit.click) / count(user.unit.view)",
            "(count(user.unit.click) + 1) / (unique(user.unit.view) - 1)",
        ),
        ("0.25 * value(user.unit.conversion) - 3", "count(user.unit.view) / 0 + " + EXPOSURE),
    ],
    "goals of another unit type never meet the experiment's units": [
        ("count(session.unit.click)", EXPOSURE),
    ],
}


@pytest.mark.parametrize("dialect", [NATIVE, LIKE], ids=["prefix-function", "like-escape"])
@pytest.mark.parametrize("rows", ["goals", "metrics", "units"])
@pytest.mark.parametrize("case", list(CASES))
def test_rows_equal_the_reference(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, case: str, rows: str, dialect: Dialect
) -> None:
    assert_matches_reference(database, events, experiment(*CASES[case]), rows, dialect=dialect)


@pytest.mark.parametrize("rows", ["goals", "metrics"])
@pytest.mark.parametrize(
    "window",
    [
        {"date_from": "2024-03-04"},
        {"date_to": "2024-03-09"},
        {"date_from": "2024-03-03", "date_to": "2024-03-12"},
        {"date_from": "2024-03-03", "date_to": "2024-03-12", "date_for": "2024-03-06"},
    ],
    ids=["from", "to", "from-to", "date-for"],
)
def test_date_windows_restrict_every_event(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, rows: str, window: dict[str, str]
) -> None:
    windowed = experiment(("value(user.unit.conversion(product=^p_))", "count(user.unit.view)"), **window)
    actual = assert_matches_reference(database, events, windowed, rows)
    everything = assert_matches_reference(
        database, events, experiment(*[(m.nominator, m.denominator) for m in windowed.metrics]), rows
    )
    assert not actual.equals(everything), "the window should change the rows of this data"


@pytest.mark.parametrize("rows", ["goals", "metrics"])
@pytest.mark.parametrize("exp_id", ["exp-2", "exp-3"])
def test_each_experiment_reads_only_its_events(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, rows: str, exp_id: str
) -> None:
    definition = experiment(*CASES["plain goals"], id=exp_id, unit_type="session")
    actual = assert_matches_reference(database, events, definition, rows)
    assert set(actual["exp_id"]) == {exp_id}


def test_checks_and_exposure_rows(database: duckdb.DuckDBPyConnection, events: pd.DataFrame) -> None:
    checks = [
        {"id": "srm", "name": "SRM", "denominator": EXPOSURE},
        {
            "id": 2,
            "name": "EVA",
            "type": "SumRatio",
            "nominator": "unique(user.unit.refund)",
            "denominator": EXPOSURE,
        },
    ]
    definition = experiment(("count(user.unit.click)", EXPOSURE), checks=checks)
    actual = assert_matches_reference(database, events, definition, "metrics")
    assert set(actual["metric_id"]) == {"1", "@check:srm", "@check:2", "@exposure"}
    assert_matches_reference(database, events, definition, "goals")


@pytest.fixture(scope="module")
def hostile_database(
    events: pd.DataFrame,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, pd.DataFrame, Source]]:
    """The events under names that break naive SQL, in a schema, without an ``agg_type`` column."""
    names = {
        "exp_id": 'experiment "id"',
        "exp_variant_id": "variant'; DROP TABLE events; --",
        "unit_type": "order",
        "goal": "Goal",
        "unit_id": "user",
        "cnt": "unique",
        "value": "value\\",
        "date": "day -- of event",
        "product": "group",
    }
    frame = events.drop(columns=["agg_type"]).rename(columns=names)
    connection = duckdb.connect(":memory:")
    connection.register("generated", frame)
    connection.execute('CREATE SCHEMA "odd ""schema"""')
    connection.execute('CREATE TABLE "odd ""schema"""."ev\'ents;" AS SELECT * FROM generated')
    connection.unregister("generated")
    columns = Columns(**{key: names[key] for key in names if key != "product"}, agg_type=None)
    source = Source(
        table='odd "schema".ev\'ents;', columns=columns, dimensions={"group": "string", "price": "integer"}
    )
    yield connection, frame, source
    connection.close()


@pytest.mark.parametrize("dialect", [NATIVE, LIKE], ids=["prefix-function", "like-escape"])
@pytest.mark.parametrize("rows", ["goals", "metrics"])
def test_hostile_source_names_are_identifiers(
    hostile_database: tuple[duckdb.DuckDBPyConnection, pd.DataFrame, Source], rows: str, dialect: Dialect
) -> None:
    connection, frame, source = hostile_database
    definition = experiment(
        ("value(user.unit.conversion(group=^p_, price>10))", EXPOSURE),
        ("count(user.global.click(group=p_1|p_2))", "count(user.unit.click)"),
        id="exp-1",
    )
    actual = assert_matches_reference(connection, frame, definition, rows, source=source, dialect=dialect)
    if rows == "goals":
        assert "group" in actual.columns
        assert set(actual["agg_type"]) == {"unit", "global"}


# --- random experiments -----------------------------------------------------------------------

DIMENSION_FILTERS = st.sampled_from(
    ["", "product=p_1", "product=^p_", "product!=p_2|q_1", "product=p%1|pa1", "price>7", "price<=3",
     "price=1|2|5", "product=^p, price>=10", "product=^p_1|q, price>3"]
)  # fmt: skip
GOALS = st.builds(
    lambda function, agg_type, goal, filters: (
        f"{function}(user.{agg_type}.{goal}{f'({filters})' if filters else ''})"
    ),
    st.sampled_from(["count", "value", "unique"]),
    st.sampled_from(["unit", "unit", "global"]),
    st.sampled_from(["click", "view", "conversion", "refund", "exposure"]),
    DIMENSION_FILTERS,
)


def expressions(depth: int = 2) -> st.SearchStrategy[str]:
    leaves = GOALS | st.sampled_from(["1", "2", "0.5", "0"])
    if depth == 0:
        return leaves
    smaller = expressions(depth - 1)
    compound = st.builds(
        lambda left, operator, right: f"({left}) {operator} ({right})",
        smaller,
        st.sampled_from(["+", "-", "~", "*", "/"]),
        smaller,
    )
    return leaves | compound | st.builds(lambda e: f"-({e})", smaller)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metrics=st.lists(st.tuples(GOALS, expressions()), min_size=1, max_size=4))
def test_random_experiments_equal_the_reference(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, metrics: list[tuple[str, str]]
) -> None:
    definition = experiment(*metrics)
    for rows in ("goals", "metrics"):
        assert_matches_reference(
            database, events, definition, rows, dialect=LIKE if len(metrics) % 2 else NATIVE
        )


@pytest.mark.parametrize("rows", ["goals", "metrics"])
def test_a_timestamp_date_column_keeps_the_whole_last_day(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, rows: str
) -> None:
    database.execute(
        "CREATE OR REPLACE TABLE events_at AS SELECT * REPLACE (date + INTERVAL 13 HOUR AS date) FROM events"
    )
    source = Source(table="events_at", dimensions=DIMENSION_TYPES)
    windowed = experiment(("count(user.unit.click)", EXPOSURE), date_from="2024-03-03", date_to="2024-03-09")
    actual = database.execute(compile_sql(windowed, rows=rows, source=source)).df()
    assert_rows_equal(actual, REFERENCE[rows](events, windowed, SOURCE))
