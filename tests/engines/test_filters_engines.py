"""Experiment filters on every engine: DuckDB, PostgreSQL, Spark (and ClickHouse through chdb).

One small data set, one experiment per scope, one combining every scope beside overlapping goal
terms (metric rows then read the events table directly): for every row contract (goals, metrics,
units), each engine returns the rows of the independent pandas computation (:mod:`expsql.testing.reference`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao, get
from expsql.models import Experiment
from expsql.source import Source
from expsql.testing import load
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows, unit_rows

pytestmark = pytest.mark.engine("filters")

SOURCE = Source(dimensions=DIMENSION_TYPES)
REFERENCE = {"goals": goal_rows, "metrics": metric_rows, "units": unit_rows}
EXPOSURE = "count(user.global.exposure)"


def _experiment(filters: list[dict[str, Any]], *metrics: tuple[str, str]) -> Experiment:
    return Experiment.model_validate(
        {
            "id": "exp-2",
            "control_variant": "a",
            "unit_type": "user",
            "metrics": [
                {"id": i, "name": f"metric {i}", "nominator": nominator, "denominator": denominator}
                for i, (nominator, denominator) in enumerate(metrics, start=1)
            ],
            "filters": filters,
        }
    )


PLAIN = [("count(user.unit.click)", EXPOSURE), ("value(user.unit.conversion)", "unique(user.unit.view)")]
OVERLAPPING = [("count(user.unit.click(product=p_1))", "count(user.unit.click(product=^p_))"), *PLAIN]
EXPERIMENTS = {
    "goal": _experiment(
        [
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_2", "q_1"]},
            {"scope": "goal", "dimension": "price", "value": [1, 2, 3, 4, 5], "goal": "click"},
        ],
        *PLAIN,
    ),
    "exposure": _experiment([{"scope": "exposure", "dimension": "platform", "value": ["web"]}], *PLAIN),
    "trigger": _experiment(
        [{"scope": "trigger", "goal": "refund", "dimension": "product", "value": ["p_1", "p_10"]}], *PLAIN
    ),
    "combined, overlapping terms": _experiment(
        [
            {"scope": "goal", "dimension": "price", "value": list(range(12)), "goal": "conversion"},
            {"scope": "exposure", "dimension": "platform", "value": ["web", "android"]},
            {"scope": "trigger", "goal": "view"},
        ],
        *OVERLAPPING,
    ),
}


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(5, experiments=2, units=400)


@pytest.fixture(scope="module")
def duckdb_dao(events: pd.DataFrame) -> Iterator[Dao]:
    dao = get("duckdb").connect()
    load.to_duckdb(dao.connection, events)  # type: ignore[attr-defined]
    yield dao
    dao.close()


@pytest.fixture(scope="module")
def postgres_dao(events: pd.DataFrame, postgres_connection: Any) -> Dao:
    load.to_postgres(postgres_connection, events, table="filter_events")
    return get("postgres").connect(connection=postgres_connection)


@pytest.fixture(scope="module")
def spark_dao(events: pd.DataFrame, spark_session: Any) -> Dao:
    load.to_spark(spark_session, events, table="filter_events")
    return get("spark").connect(session=spark_session)


#: The table each engine's copy of the events is in (engines shared with other test modules).
TABLES = {"duckdb": "events", "postgres": "filter_events", "spark": "filter_events"}


@pytest.mark.parametrize("case", list(EXPERIMENTS))
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_filtered_rows_equal_the_pandas_reference(
    engine: str, case: str, events: pd.DataFrame, request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    source = SOURCE.model_copy(update={"table": TABLES[engine]})
    for rows in REFERENCE:
        expected = REFERENCE[rows](events, EXPERIMENTS[case], SOURCE)
        assert len(expected) > 0
        actual = dao.execute(compile_sql(EXPERIMENTS[case], dialect=engine, rows=rows, source=source))
        assert_rows_equal(actual, expected)


@pytest.fixture(scope="module")
def clickhouse_session(events: pd.DataFrame, open_clickhouse: Callable[..., Any]) -> Any:
    return open_clickhouse(events)


@pytest.mark.parametrize("case", list(EXPERIMENTS))
def test_clickhouse_filtered_rows_equal_the_pandas_reference(
    case: str, events: pd.DataFrame, clickhouse_session: Any
) -> None:
    for rows in REFERENCE:
        sql = compile_sql(EXPERIMENTS[case], dialect="clickhouse", rows=rows, source=SOURCE)
        expected = REFERENCE[rows](events, EXPERIMENTS[case], SOURCE)
        assert_rows_equal(load.clickhouse_rows(clickhouse_session, sql), expected)
