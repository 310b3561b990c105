"""Winsorized metrics on DuckDB, PostgreSQL, Spark (and ClickHouse through chdb): one answer.

Each engine computes the pooled percentiles with its own exact function (``QUANTILE_CONT``,
``PERCENTILE_CONT ... WITHIN GROUP``, Spark's ``percentile``, ``quantileExactInclusive``); the
metric rows must equal the pandas oracle (``Series.quantile``, clip, sums) to a relative 1e-9,
and the scorecards evaluated from them must be the same on every engine. The experiment has a
date window, dimension filters and experiment filters of every scope, so the caps are computed over
what the scan and the filters keep.
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
from expsql.stats import evaluate
from expsql.testing import load
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.reference import assert_rows_equal, metric_rows

pytestmark = pytest.mark.engine("cross-engine")

TABLE = "winsorized_events"
SOURCE = Source(table=TABLE, dimensions=DIMENSION_TYPES)
EXPOSURES = "count(user.global.exposure)"
REVENUE = "value(user.unit.conversion(product=^p_))"


def _metric(number: int, nominator: str, denominator: str, upper: float | None, lower: float | None) -> dict:
    return {
        "id": number,
        "name": f"metric {number}",
        "nominator": nominator,
        "denominator": denominator,
        "outlier_upper_percentile": upper,
        "outlier_lower_percentile": lower,
    }


EXPERIMENT = Experiment(
    id="exp-2",
    control_variant="a",
    unit_type="user",
    date_from=dt.date(2024, 3, 2),
    date_to=dt.date(2024, 3, 12),
    metrics=[
        _metric(1, REVENUE, EXPOSURES, 5, None),  # upper only
        _metric(2, "count(user.unit.click) - count(user.unit.view)", EXPOSURES, None, 10),  # lower only
        _metric(3, "value(user.unit.conversion) - value(user.unit.refund)", EXPOSURES, 2.5, 7),  # both
        _metric(4, REVENUE, "count(user.unit.view(price>=3))", 20, None),  # same nominator, other caps
        _metric(5, REVENUE, EXPOSURES, None, None),  # and uncapped
        _metric(6, "count(user.unit.click) / count(user.unit.view)", "unique(user.unit.view)", 10, 10),
    ],
    checks=[{"id": 1, "name": "SRM", "denominator": EXPOSURES}],
    # Issue 6's acceptance: filtered *and* winsorized, one scorecard on every engine. The caps are
    # then percentiles of the units the filters keep.
    filters=[
        {"scope": "exposure", "dimension": "platform", "value": ["web", "android"]},
        {"scope": "goal", "dimension": "price", "value": list(range(1, 9)), "goal": "view"},
        {"scope": "trigger", "goal": "view"},
    ],
)
ENGINES = ("duckdb", "postgres", "spark")


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(20261128, experiments=2, units=1500)


@pytest.fixture(scope="module")
def duckdb_dao(events: pd.DataFrame) -> Iterator[Dao]:
    dao = get("duckdb").connect()
    load.to_duckdb(dao.connection, events, TABLE)  # type: ignore[attr-defined]
    yield dao
    dao.close()


@pytest.fixture(scope="module")
def postgres_dao(events: pd.DataFrame, postgres_connection: Any) -> Dao:
    load.to_postgres(postgres_connection, events, TABLE)
    return get("postgres").connect(connection=postgres_connection)


@pytest.fixture(scope="module")
def spark_dao(events: pd.DataFrame, spark_session: Any) -> Dao:
    load.to_spark(spark_session, events, TABLE)
    return get("spark").connect(session=spark_session)


@pytest.fixture(scope="module")
def engine_rows(request: pytest.FixtureRequest) -> Callable[[str], pd.DataFrame]:
    cache: dict[str, pd.DataFrame] = {}

    def rows(engine: str) -> pd.DataFrame:
        if engine not in cache:
            dao: Dao = request.getfixturevalue(f"{engine}_dao")
            cache[engine] = dao.execute(
                compile_sql(EXPERIMENT, dialect=engine, rows="metrics", source=SOURCE)
            )
        return cache[engine]

    return rows


@pytest.fixture(scope="module")
def reference(events: pd.DataFrame) -> pd.DataFrame:
    return metric_rows(events, EXPERIMENT, SOURCE)


def test_the_caps_change_every_winsorized_metric(events: pd.DataFrame, reference: pd.DataFrame) -> None:
    uncapped = Experiment.model_validate(
        EXPERIMENT.model_dump()
        | {
            "metrics": [
                _metric(int(m.id), m.nominator, m.denominator, None, None) for m in EXPERIMENT.metrics
            ]
        }
    )
    plain = metric_rows(events, uncapped, SOURCE).set_index(["metric_id", "exp_variant_id"])["sum_x2"]
    capped = reference.set_index(["metric_id", "exp_variant_id"])["sum_x2"]
    changed = (plain != capped).groupby(level="metric_id").any()
    assert changed.to_dict() == {
        "1": True,
        "2": True,
        "3": True,
        "4": True,
        "5": False,
        "6": True,
        "@check:1": False,
        "@exposure": False,
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_metric_rows_equal_the_pandas_oracle(
    engine: str, engine_rows: Callable[[str], pd.DataFrame], reference: pd.DataFrame
) -> None:
    assert_rows_equal(engine_rows(engine), reference)


def test_clickhouse_rows_equal_the_pandas_oracle(
    events: pd.DataFrame, reference: pd.DataFrame, open_clickhouse: Callable[..., Any]
) -> None:
    clickhouse = open_clickhouse(events, TABLE)
    sql = compile_sql(EXPERIMENT, dialect="clickhouse", rows="metrics", source=SOURCE)
    assert_rows_equal(load.clickhouse_rows(clickhouse, sql), reference)


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_scorecard_equals_duckdb_scorecard(engine: str, engine_rows: Callable[[str], pd.DataFrame]) -> None:
    expected = evaluate(EXPERIMENT, engine_rows("duckdb")).metrics
    actual = evaluate(EXPERIMENT, engine_rows(engine)).metrics
    assert list(actual.columns) == list(expected.columns)
    for name in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[name]):
            np.testing.assert_allclose(
                actual[name].to_numpy(float),
                expected[name].to_numpy(float),
                rtol=1e-9,
                atol=1e-12,
                err_msg=name,
            )
        else:
            assert actual[name].tolist() == expected[name].tolist(), name
