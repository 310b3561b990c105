"""Breakdowns on every engine: DuckDB, PostgreSQL, Spark (and ClickHouse through chdb) return, per
segment, the rows of the pandas oracle run on the segment's units (:mod:`expsql.testing.segment_reference`),
and the rows of all segments add up to the rows of the query without a breakdown — the exposures
layout with filters, CUPED and a winsorized metric (caps pooled over every segment)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao
from expsql.models import Experiment
from expsql.source import ExposuresSource, validate_source
from expsql.stats.breakdowns import summed
from expsql.testing import attribution_reference as reference
from expsql.testing import load
from expsql.testing.attribution_reference import assert_rows_equal
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from expsql.testing.segment_reference import exposures_rows, labelled
from tests.engines.exposures_daos import dao_fixtures

pytestmark = pytest.mark.engine("exposures")

EXPOSURE = "count(user.global.exposure)"
METRICS = [
    {"id": 1, "name": "clicks", "nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {
        "id": 2,
        "name": "p_1 spend",
        "nominator": "value(user.unit.purchase(product=p_1|p_10))",
        "denominator": "unique(user.unit.view)",
    },
]
BASE = {"id": "exp-1", "control_variant": "a", "unit_type": "user", "metrics": METRICS}
PLAIN = Experiment.model_validate(
    {
        **BASE,
        "breakdown": ["country", "platform"],
        "date_from": DATE_FROM.isoformat(),
        "date_to": DATE_TO.isoformat(),
    }
)
ADJUSTED = Experiment.model_validate(
    {
        **BASE,
        "metrics": [{**METRICS[0], "outlier_upper_percentile": 5}, METRICS[1]],
        "breakdown": ["country"],
        "cuped_lookback_days": 7,
        "conversion_window_hours": 72,
        "filters": [
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10", "q_1"], "goal": "purchase"}
        ],
    }
)
CONTRACTS = {"goals": reference.goal_rows, "metrics": reference.metric_rows, "units": reference.unit_rows}


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate(seed=11, units=300)


def source_for(engine: str) -> ExposuresSource:
    prefix = "" if engine in ("duckdb", "clickhouse") else "breakdown_"
    names = {"exposures": {"table": f"{prefix}exposures"}, "events": {"table": f"{prefix}events"}}
    return validate_source({key: {**SOURCE[key], **names[key]} for key in SOURCE})  # type: ignore[index]


duckdb_dao, postgres_dao, spark_dao, clickhouse_session = dao_fixtures("breakdown_")
ENGINES = ["duckdb", "postgres", "spark"]


def contracts_of(experiment: Experiment) -> list[str]:
    return ["metrics", "units"] if experiment.needs_metric_rows() else list(CONTRACTS)


@pytest.mark.parametrize("engine", ENGINES)
def test_segments_equal_the_pandas_oracle(
    engine: str, tables: tuple[pd.DataFrame, pd.DataFrame], request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    for rows in CONTRACTS:
        actual = dao.execute(compile_sql(PLAIN, dialect=engine, rows=rows, source=source_for(engine)))
        expected = exposures_rows(CONTRACTS[rows], *tables, PLAIN, source_for("duckdb"))
        assert_rows_equal(labelled(actual, list(PLAIN.breakdown)), expected)


@pytest.mark.parametrize("experiment", [PLAIN, ADJUSTED], ids=["plain", "winsorized, CUPED, filtered"])
@pytest.mark.parametrize("engine", ENGINES)
def test_segments_add_up_to_the_overall_rows(
    engine: str, experiment: Experiment, request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    without = experiment.model_copy(update={"breakdown": []})
    for rows in contracts_of(experiment):
        actual = dao.execute(compile_sql(experiment, dialect=engine, rows=rows, source=source_for(engine)))
        overall = dao.execute(compile_sql(without, dialect=engine, rows=rows, source=source_for(engine)))
        assert actual[list(experiment.breakdown)].drop_duplicates().shape[0] > 2
        assert_rows_equal(summed(actual, list(experiment.breakdown)), overall)


def test_clickhouse_segments_equal_the_oracle_and_add_up(
    tables: tuple[pd.DataFrame, pd.DataFrame], clickhouse_session: Any
) -> None:
    source = source_for("clickhouse")
    for rows in CONTRACTS:
        actual = load.clickhouse_rows(
            clickhouse_session, compile_sql(PLAIN, dialect="clickhouse", rows=rows, source=source)
        )
        expected = exposures_rows(CONTRACTS[rows], *tables, PLAIN, source_for("duckdb"))
        assert_rows_equal(labelled(actual, list(PLAIN.breakdown)), expected)
    for rows in contracts_of(ADJUSTED):
        without = ADJUSTED.model_copy(update={"breakdown": []})
        actual = load.clickhouse_rows(
            clickhouse_session, compile_sql(ADJUSTED, dialect="clickhouse", rows=rows, source=source)
        )
        overall = load.clickhouse_rows(
            clickhouse_session, compile_sql(without, dialect="clickhouse", rows=rows, source=source)
        )
        assert_rows_equal(summed(actual, ["country"]), overall)
