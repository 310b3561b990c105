"""One data set, three engines, one answer: DuckDB, PostgreSQL and Spark agree with pandas.

Over 100k events of three experiments (dimension values with quotes, backslashes, ``%``, ``_``,
non-ASCII letters and SQL; NULL dimensions, counts and values; units with only an exposure) are
loaded into every engine. For each experiment and both row contracts, the query compiled for the
engine's dialect returns the rows of the independent pandas computation (:mod:`expsql.testing.reference`):
counts exactly, sums to a relative 1e-9; and the engines' rows equal each other. ClickHouse's SQL
runs too, in-process through ``chdb``, when it is installed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao, get
from expsql.models import Experiment
from expsql.source import Source
from expsql.testing import load
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows

pytestmark = pytest.mark.engine("cross-engine")

SEED = 20240301
MINIMUM_EVENTS = 100_000
#: Values no filter of the metric language can spell, so only correct quoting keeps them apart.
HOSTILE_PRODUCTS = (
    "it's",
    'say "hi"',
    "back\\slash",
    "C:\\new\\table",
    "50%_off",
    "50% off",
    "p_1%",
    "p_1'; DROP TABLE events; --",
    "naïve",
    "日本語",
    "Ω_1",
)
SOURCE = Source(dimensions=DIMENSION_TYPES)
REFERENCE: dict[str, Callable[[pd.DataFrame, Experiment, Source], pd.DataFrame]] = {
    "goals": goal_rows,
    "metrics": metric_rows,
}


def _metric(number: int, nominator: str, denominator: str) -> dict[str, Any]:
    return {"id": number, "name": f"metric {number}", "nominator": nominator, "denominator": denominator}


EXPERIMENTS = {
    "exp-1": Experiment(
        id="exp-1",
        control_variant="a",
        unit_type="user",
        metrics=[
            _metric(1, "count(user.unit.click)", "count(user.global.exposure)"),
            _metric(2, "value(user.unit.conversion(product=^p_1))", "unique(user.global.exposure)"),
            _metric(
                3,
                "value(user.unit.conversion(product=50%_off|p_1%)) - value(user.unit.refund)",
                "count(user.global.exposure)",
            ),
            _metric(4, "count(user.unit.click(product=^p_))", "count(user.unit.view(product!=p_2))"),
        ],
        checks=[{"id": 1, "name": "SRM", "denominator": "count(user.global.exposure)"}],
    ),
    "exp-2": Experiment(
        id="exp-2",
        control_variant="a",
        unit_type="session",
        date_from=dt.date(2024, 3, 3),
        date_to=dt.date(2024, 3, 11),
        metrics=[
            _metric(1, "value(session.unit.conversion(price>=10))", "count(session.global.exposure)"),
            _metric(2, "unique(session.unit.click(product=^50%, price<5))", "unique(session.unit.view)"),
            _metric(3, "count(session.unit.view(product=p_1))", "count(session.unit.view(product=^p_))"),
        ],
    ),
    "exp-3": Experiment(
        id="exp-3",
        control_variant="b",
        unit_type="user",
        metrics=[
            _metric(
                1, "(2 * count(user.unit.click) + value(user.unit.conversion))", "count(user.global.exposure)"
            ),
            _metric(2, "count(user.unit.click(product<p_2))", "count(user.unit.click(product>=p_2))"),
            _metric(3, "value(user.global.refund(price!=3|4))", "-count(user.global.exposure) * 0.5"),
        ],
        checks=[{"id": 7, "name": "SRM", "denominator": "count(user.global.exposure)"}],
    ),
}
ENGINES = ("duckdb", "postgres", "spark")


def hostile_events() -> pd.DataFrame:
    """The generated events with a quarter of the products replaced by hostile strings."""
    events = generate_events(SEED, experiments=3, units=3400)
    rng = np.random.default_rng(SEED)
    replace = events["product"].notna().to_numpy() & (rng.random(len(events)) < 0.25)
    picks = rng.integers(len(HOSTILE_PRODUCTS), size=int(replace.sum()))
    product = events["product"].astype(object)
    product[replace] = [HOSTILE_PRODUCTS[pick] for pick in picks]
    events["product"] = product
    return events


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return hostile_events()


@pytest.fixture(scope="module")
def duckdb_dao(events: pd.DataFrame) -> Iterator[Dao]:
    dao = get("duckdb").connect()
    load.to_duckdb(dao.connection, events)  # type: ignore[attr-defined]
    yield dao
    dao.close()


@pytest.fixture(scope="module")
def postgres_dao(events: pd.DataFrame, postgres_connection: Any) -> Dao:
    load.to_postgres(postgres_connection, events)
    return get("postgres").connect(connection=postgres_connection)


@pytest.fixture(scope="module")
def spark_dao(events: pd.DataFrame, spark_session: Any) -> Dao:
    load.to_spark(spark_session, events)
    return get("spark").connect(session=spark_session)


@pytest.fixture(scope="module")
def engine_rows(request: pytest.FixtureRequest) -> Callable[[str, str, str], pd.DataFrame]:
    """Rows of (engine, experiment, contract), each query run once per module."""
    cache: dict[tuple[str, str, str], pd.DataFrame] = {}

    def rows(engine: str, experiment_id: str, contract: str) -> pd.DataFrame:
        key = (engine, experiment_id, contract)
        if key not in cache:
            dao: Dao = request.getfixturevalue(f"{engine}_dao")
            sql = compile_sql(EXPERIMENTS[experiment_id], dialect=engine, rows=contract, source=SOURCE)
            cache[key] = dao.execute(sql)
        return cache[key]

    return rows


@pytest.fixture(scope="module")
def reference_rows(events: pd.DataFrame) -> Callable[[str, str], pd.DataFrame]:
    cache: dict[tuple[str, str], pd.DataFrame] = {}

    def rows(experiment_id: str, contract: str) -> pd.DataFrame:
        if (experiment_id, contract) not in cache:
            experiment = EXPERIMENTS[experiment_id]
            cache[experiment_id, contract] = REFERENCE[contract](events, experiment, SOURCE)
        return cache[experiment_id, contract]

    return rows


def test_data_set_is_large_and_hostile(events: pd.DataFrame) -> None:
    assert len(events) >= MINIMUM_EVENTS
    assert events["exp_id"].nunique() == 3
    products = set(events["product"].dropna())
    assert set(HOSTILE_PRODUCTS) <= products
    assert events["product"].isna().any() and events["value"].isna().any() and events["cnt"].isna().any()
    goals_per_unit = events.groupby(["exp_id", "unit_type", "unit_id"])["goal"].agg(set)
    assert (goals_per_unit == {"exposure"}).any(), "no unit with only an exposure"


@pytest.mark.parametrize("contract", ["goals", "metrics"])
@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_rows_equal_the_pandas_reference(
    engine: str,
    experiment_id: str,
    contract: str,
    engine_rows: Callable[[str, str, str], pd.DataFrame],
    reference_rows: Callable[[str, str], pd.DataFrame],
) -> None:
    expected = reference_rows(experiment_id, contract)
    assert len(expected) > 0
    assert_rows_equal(engine_rows(engine, experiment_id, contract), expected)


@pytest.mark.parametrize("contract", ["goals", "metrics"])
@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_engine_rows_equal_duckdb_rows(
    engine: str, experiment_id: str, contract: str, engine_rows: Callable[[str, str, str], pd.DataFrame]
) -> None:
    duckdb_rows = engine_rows("duckdb", experiment_id, contract)
    other_rows = engine_rows(engine, experiment_id, contract)
    assert_rows_equal(other_rows, duckdb_rows)
    assert list(other_rows.dtypes) == list(duckdb_rows.dtypes)


@pytest.fixture(scope="module")
def clickhouse_session(events: pd.DataFrame, open_clickhouse: Callable[..., Any]) -> Any:
    return open_clickhouse(events)


@pytest.mark.parametrize("contract", ["goals", "metrics"])
@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
def test_clickhouse_rows_equal_the_pandas_reference(
    experiment_id: str,
    contract: str,
    clickhouse_session: Any,
    reference_rows: Callable[[str, str], pd.DataFrame],
) -> None:
    sql = compile_sql(EXPERIMENTS[experiment_id], dialect="clickhouse", rows=contract, source=SOURCE)
    assert_rows_equal(load.clickhouse_rows(clickhouse_session, sql), reference_rows(experiment_id, contract))
