"""Several events tables on DuckDB, PostgreSQL and Spark: an experiment over two tables (page
events with a goal column, purchases whose every row is one goal, each with its own column names)
returns the rows of the same experiment over one table holding their ``UNION ALL``, and those of
the pandas oracle, for every feature the exposures layout has: attribution windows and per-metric
windows, both multiple-exposure modes, filters of every scope, CUPED, winsorization, a breakdown
and the timeline."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao
from expsql.models import Experiment
from expsql.source import ExposuresSource, validate_source
from expsql.stats.timeline import row_days, rows_as_of
from expsql.testing import attribution_reference as reference
from expsql.testing.attribution_reference import assert_rows_equal
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, DELAY_HOURS, WINDOW_HOURS
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from tests.engines.exposures_daos import dao_fixtures

pytestmark = pytest.mark.engine("event tables")

EXPOSURE = "count(user.global.exposure)"
METRICS = [
    {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {"nominator": "value(user.unit.purchase(product=p_1|p_10))", "denominator": "unique(user.unit.view)"},
    {"nominator": "value(user.unit.purchase) - count(user.unit.view(product=^p_))", "denominator": EXPOSURE},
]
WINDOW = {"conversion_delay_hours": DELAY_HOURS, "conversion_window_hours": WINDOW_HOURS}


def experiment(metrics: list[dict[str, Any]], **fields: Any) -> Experiment:
    numbered = [{"id": i, "name": f"metric {i}", **m} for i, m in enumerate(metrics, start=1)]
    base = {"id": "exp-1", "control_variant": "a", "unit_type": "user"}
    window = {"date_from": DATE_FROM.isoformat(), "date_to": DATE_TO.isoformat()}
    checks = [{"id": 1, "name": "SRM", "denominator": EXPOSURE}]
    return Experiment.model_validate({**base, **window, "checks": checks, **fields, "metrics": numbered})


CASES: dict[str, Experiment] = {
    "plain": experiment(METRICS),
    "windows, first variant, filters of every scope": experiment(
        METRICS,
        multiple_exposures="first",
        filters=[
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10", "q_1"], "goal": "purchase"},
            {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
            {"scope": "trigger", "goal": "view"},
        ],
        **WINDOW,
    ),
    "per-metric windows, CUPED, winsorized": experiment(
        [
            {**METRICS[0], "conversion_window_hours": 12, "outlier_upper_percentile": 5},
            {**METRICS[2], "conversion_delay_hours": 2},
        ],
        cuped_lookback_days=2,
    ),
    "breakdown and timeline": experiment(METRICS, breakdown=["country"], timeline="daily"),
}


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, ...]:
    """The exposure log, the two tables the raw events are split into, and their union."""
    exposures, events = generate(seed=4, units=300)
    purchase = events["event"] == "purchase"
    pages = events[~purchase].rename(
        columns={"unit_id": "user_id", "event": "action", "timestamp": "ts", "value": "points"}
    )
    purchases = events[purchase].drop(columns=["event"])
    purchases = purchases.rename(
        columns={"unit_id": "customer_id", "value": "amount", "timestamp": "ordered_at"}
    )
    return exposures, pages.reset_index(drop=True), purchases.reset_index(drop=True), events


NAMES = ("exposures", "page_events", "purchases", "all_events")
duckdb_dao, postgres_dao, spark_dao, _ = dao_fixtures("event_tables_", NAMES)


def sources(engine: str) -> tuple[ExposuresSource, ExposuresSource]:
    """The two-table source and the one over the union, with the engine's table names."""
    prefix = "" if engine == "duckdb" else "event_tables_"
    exposures = {"table": f"{prefix}exposures", "dimensions": {"platform": "string", "country": "string"}}
    pages = {
        "table": f"{prefix}page_events",
        "goals": ["click", "view"],
        "columns": {"unit_id": "user_id", "goal": "action", "timestamp": "ts", "value": "points"},
        "dimensions": {"product": "string"},
    }
    purchases = {
        "table": f"{prefix}purchases",
        "goal": "purchase",
        "columns": {"unit_id": "customer_id", "value": "amount", "timestamp": "ordered_at"},
        "dimensions": {"product": "string"},
    }
    union = {"table": f"{prefix}all_events", "dimensions": {"product": "string"}}
    two = validate_source({"exposures": exposures, "events": [pages, purchases]})
    return two, validate_source({"exposures": exposures, "events": union})  # type: ignore[return-value]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_two_tables_return_the_rows_of_their_union(
    engine: str, case: str, request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    chosen = CASES[case]
    two, union = sources(engine)
    contracts = (
        ["metrics"] if chosen.needs_metric_rows() or chosen.timeline else ["goals", "metrics", "units"]
    )
    for rows in contracts:
        actual = dao.execute(compile_sql(chosen, dialect=engine, rows=rows, source=two))
        expected = dao.execute(compile_sql(chosen, dialect=engine, rows=rows, source=union))
        assert len(expected) > 0
        assert_rows_equal(actual, expected)


@pytest.mark.parametrize("case", ["plain", "windows, first variant, filters of every scope"])
def test_two_tables_return_the_pandas_oracles_rows(
    case: str, tables: tuple[pd.DataFrame, ...], duckdb_dao: Dao
) -> None:
    exposures, _, _, events = tables
    two, union = sources("duckdb")
    actual = duckdb_dao.execute(compile_sql(CASES[case], dialect="duckdb", rows="metrics", source=two))
    assert_rows_equal(actual, reference.metric_rows(exposures, events, CASES[case], union))


def test_the_timeline_of_two_tables_is_their_unions_on_every_day(duckdb_dao: Dao) -> None:
    chosen = CASES["breakdown and timeline"]
    two, union = sources("duckdb")
    actual = duckdb_dao.execute(compile_sql(chosen, dialect="duckdb", rows="metrics", source=two))
    expected = duckdb_dao.execute(compile_sql(chosen, dialect="duckdb", rows="metrics", source=union))
    days, expected_days = row_days(actual), row_days(expected)
    assert set(days) == set(expected_days) and len(set(days)) == 7
    for day in sorted(set(days)):
        assert_rows_equal(
            rows_as_of(actual, days, day, chosen.breakdown),
            rows_as_of(expected, expected_days, day, chosen.breakdown),
        )
