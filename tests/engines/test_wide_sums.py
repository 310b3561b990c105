"""Sums of squares beyond 64 bits: every engine returns them, exactly enough, for both row contracts.

Each unit of the events buys three times, each ``cnt`` and ``value`` an integer below 2^31, so
per unit about 5.4e9 and its square about 2.9e19: beyond the 64-bit range (9.2e18) that Spark's
``SUM(BIGINT)`` and ``BIGINT * BIGINT`` stay in, and PostgreSQL's ``BIGINT * BIGINT`` (its
``SUM(INTEGER)`` is a BIGINT: the columns are INTEGER there, BIGINT in Spark and DuckDB). The
rows must equal exact sums computed with Python integers to a relative 1e-12 and evaluate
without warnings. Before the squares were cast to DOUBLE, PostgreSQL raised "bigint out of range"
and Spark (ANSI mode) ARITHMETIC_OVERFLOW; without ANSI mode Spark wraps around silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao, get
from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.testing import load

pytestmark = pytest.mark.engine("wide-sums")
ENGINES = ("duckdb", "postgres", "spark", "spark_legacy")

UNITS = 40
PURCHASES = 3
LOW, HIGH = 1_600_000_000, 2_000_000_000
EXPERIMENT = Experiment(
    id="wide",
    control_variant="a",
    unit_type="user",
    variants=["a", "b"],
    metrics=[
        {
            "id": 1,
            "name": "value",
            "nominator": "value(user.unit.buy)",
            "denominator": "count(user.global.exposure)",
        },
        {
            "id": 2,
            "name": "count",
            "nominator": "count(user.unit.buy)",
            "denominator": "count(user.global.exposure)",
        },
    ],
)


def _events() -> pd.DataFrame:
    """Per unit one exposure and three purchases whose cnt and value sum to about 5.4e9 each."""
    rng = np.random.default_rng(7)
    units = np.arange(2 * UNITS)
    variant = np.where(units < UNITS, "a", "b")
    amount = rng.integers(LOW, HIGH, size=(2 * UNITS, PURCHASES))
    exposures = pd.DataFrame({"unit_id": units, "exp_variant_id": variant, "goal": "exposure",
                              "agg_type": "global", "cnt": 1, "value": 0})  # fmt: skip
    buys = pd.DataFrame(
        {
            "unit_id": np.repeat(units, PURCHASES),
            "exp_variant_id": np.repeat(variant, PURCHASES),
            "goal": "buy",
            "agg_type": "unit",
            "cnt": amount.ravel(),
            "value": amount.ravel(),
        }
    )
    events = pd.concat([exposures, buys], ignore_index=True)
    events["unit_id"] = "u" + events["unit_id"].astype(str)
    events = events.assign(exp_id="wide", unit_type="user", date=dt.date(2024, 3, 1))
    events["cnt"] = events["cnt"].astype("int64")
    events["value"] = events["value"].astype("int64")
    return events


def _exact(events: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per variant the exact Σ per-unit total and Σ per-unit total² of the buys (Python integers)."""
    buys = events[events["goal"] == "buy"]
    per_unit = buys.groupby(["exp_variant_id", "unit_id"])["value"].sum()
    return {
        variant: {"sum": sum(int(v) for v in group), "squares": sum(int(v) ** 2 for v in group)}
        for variant, group in per_unit.groupby(level=0)
    }


EVENTS = _events()
EXACT = _exact(EVENTS)


@pytest.fixture(scope="module")
def duckdb_dao() -> Iterator[Dao]:
    dao = get("duckdb").connect()
    load.to_duckdb(dao.connection, EVENTS, table="wide_events")  # type: ignore[attr-defined]
    yield dao
    dao.close()


@pytest.fixture(scope="module")
def postgres_dao(postgres_connection: Any) -> Dao:
    from psycopg import sql

    load.to_postgres(postgres_connection, EVENTS, table="wide_events")
    alter = sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE integer, ALTER COLUMN {} TYPE integer")
    with postgres_connection.cursor() as cursor:
        cursor.execute(alter.format(*map(sql.Identifier, ("wide_events", "cnt", "value"))))
    return get("postgres").connect(connection=postgres_connection)


@pytest.fixture(scope="module")
def spark_dao(spark_session: Any) -> Dao:
    load.to_spark(spark_session, EVENTS, table="wide_events")
    return get("spark").connect(session=spark_session)


@pytest.fixture
def spark_legacy_dao(spark_dao: Dao, spark_session: Any) -> Iterator[Dao]:
    """Spark without ANSI mode, where 64-bit arithmetic wraps around instead of raising."""
    key = "spark.sql.ansi.enabled"
    previous = spark_session.conf.get(key)
    spark_session.conf.set(key, "false")
    yield spark_dao
    spark_session.conf.set(key, previous)


def _rows(request: pytest.FixtureRequest, engine: str, contract: str) -> pd.DataFrame:
    from expsql.source import Source

    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    return dao.execute(
        compile_sql(
            EXPERIMENT,
            dialect=engine.removesuffix("_legacy"),
            rows=contract,
            source=Source(table="wide_events"),
        )
    )


def _close(actual: float, exact: int) -> bool:
    return abs(actual - exact) <= 1e-12 * abs(exact)


@pytest.mark.parametrize("engine", ENGINES)
def test_goal_rows_square_64_bit_overflowing_units_exactly_enough(
    engine: str, request: pytest.FixtureRequest
) -> None:
    rows = _rows(request, engine, "goals")
    buys = rows[rows["goal"] == "buy"].set_index("exp_variant_id")
    for variant, exact in EXACT.items():
        assert _close(buys.loc[variant, "sum_value"], exact["sum"])
        assert _close(buys.loc[variant, "sum_sqr_value"], exact["squares"])
        assert _close(buys.loc[variant, "sum_sqr_count"], exact["squares"])
    assert evaluate(EXPERIMENT, rows).warnings == ()


@pytest.mark.parametrize("engine", ENGINES)
def test_metric_rows_square_64_bit_overflowing_units_exactly_enough(
    engine: str, request: pytest.FixtureRequest
) -> None:
    rows = _rows(request, engine, "metrics")
    value = rows[rows["metric_id"] == "1"].set_index("exp_variant_id")
    for variant, exact in EXACT.items():
        assert _close(value.loc[variant, "sum_x"], exact["sum"])
        assert _close(value.loc[variant, "sum_x2"], exact["squares"])
    assert evaluate(EXPERIMENT, rows).warnings == ()
