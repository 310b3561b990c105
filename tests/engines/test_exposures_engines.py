"""The exposures-and-events layout on every engine: DuckDB, PostgreSQL, Spark (and ClickHouse
through chdb) return the rows of the independent pandas oracle (:mod:`expsql.testing.attribution_reference`)
on adversarial data (:mod:`expsql.testing.exposure_events`): pre-exposure events, events at exactly ``t0``,
at the window's and the experiment's end, units in two variants (both modes), exposures outside
the window, events of never-exposed units, NULLs in every key, two experiments in one log,
filters of every scope, winsorized, compound and per-metric-window metrics.

A source naming a column the warehouse lacks fails as a ``ConnectorError`` naming the column.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from expsql import runner
from expsql.compiler import compile_sql
from expsql.dialects import Dao
from expsql.errors import ConnectorError
from expsql.models import Experiment
from expsql.source import ExposuresSource, validate_source
from expsql.testing import attribution_reference as reference
from expsql.testing import load
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, DELAY_HOURS, SOURCE, WINDOW_HOURS
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from expsql.testing.reference import assert_rows_equal
from tests.engines.exposures_daos import dao_fixtures

pytestmark = pytest.mark.engine("exposures")

EXPOSURE = "count(user.global.exposure)"
PLAIN = [
    {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {"nominator": "value(user.unit.purchase(product=p_1|p_10))", "denominator": "unique(user.unit.view)"},
    {
        "nominator": "value(user.unit.purchase) - value(user.unit.purchase(product=^p_))",
        "denominator": EXPOSURE,
    },
    {
        "nominator": "count(user.unit.view(product=p%1))",
        "denominator": "count(user.unit.exposure(platform=web))",
    },
]
CHECKS = [{"id": 1, "name": "SRM", "denominator": EXPOSURE}]


def experiment(metrics: list[dict[str, Any]], exp_id: str = "exp-1", **fields: Any) -> Experiment:
    numbered = [{"id": i, "name": f"metric {i}", **m} for i, m in enumerate(metrics, start=1)]
    window = {"date_from": DATE_FROM.isoformat(), "date_to": DATE_TO.isoformat()}
    base = {"id": exp_id, "control_variant": "a", "unit_type": "user", **window, "checks": CHECKS}
    return Experiment.model_validate({**base, **fields, "metrics": numbered})


ATTRIBUTION = {"conversion_delay_hours": DELAY_HOURS, "conversion_window_hours": WINDOW_HOURS}
CASES: dict[str, Experiment] = {
    "plain": experiment(PLAIN),
    "three variants, no dates": experiment(PLAIN, "exp-2", date_from=None, date_to=None),
    "delay and window": experiment(PLAIN, **ATTRIBUTION),
    "first variant": experiment(PLAIN, multiple_exposures="first", **ATTRIBUTION),
    "filters of every scope": experiment(
        PLAIN,
        filters=[
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10", "q_1"], "goal": "purchase"},
            {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
            {"scope": "trigger", "goal": "view"},
        ],
        **ATTRIBUTION,
    ),
    "winsorized": experiment(
        [{**PLAIN[0], "outlier_upper_percentile": 5, "outlier_lower_percentile": 1}, PLAIN[2]], **ATTRIBUTION
    ),
    "per-metric windows": experiment(
        [
            {**PLAIN[0], "conversion_window_hours": 1},
            {**PLAIN[0], "conversion_delay_hours": 25},
            PLAIN[2],
        ],
        filters=[{"scope": "trigger", "goal": "click"}],
    ),
    # A trigger reads the experiment's window, never a metric's wider one.
    "a metric's window beyond the experiment's, and a trigger": experiment(
        [{**PLAIN[0], "conversion_delay_hours": 25, "conversion_window_hours": 24}, PLAIN[2]],
        filters=[{"scope": "trigger", "goal": "view"}],
        **ATTRIBUTION,
    ),
}
ROWS = {"goals": reference.goal_rows, "metrics": reference.metric_rows, "units": reference.unit_rows}


def contracts(case: str) -> list[str]:
    experiment = CASES[case]
    if experiment.needs_metric_rows():
        return ["metrics"] + ([] if experiment.windows_differ() else ["units"])
    return list(ROWS)


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate(seed=4, units=300)


def source_for(engine: str) -> ExposuresSource:
    """The tables' names in ``engine`` (engines are shared with other test modules)."""
    prefix = "" if engine in ("duckdb", "clickhouse") else "attribution_"
    names = {"exposures": {"table": f"{prefix}exposures"}, "events": {"table": f"{prefix}events"}}
    return validate_source({key: {**SOURCE[key], **names[key]} for key in SOURCE})  # type: ignore[index]


SEED_SOURCE = source_for("duckdb")


duckdb_dao, postgres_dao, spark_dao, clickhouse_session = dao_fixtures("attribution_")


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_attributed_rows_equal_the_pandas_oracle(
    engine: str, case: str, tables: tuple[pd.DataFrame, pd.DataFrame], request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    for rows in contracts(case):
        expected = ROWS[rows](*tables, CASES[case], SEED_SOURCE)
        assert len(expected) > 0
        actual = dao.execute(compile_sql(CASES[case], dialect=engine, rows=rows, source=source_for(engine)))
        assert_rows_equal(actual, expected)


@pytest.mark.parametrize("case", ["plain", "delay and window", "filters of every scope"])
def test_clickhouse_attributed_rows_equal_the_pandas_oracle(
    case: str, tables: tuple[pd.DataFrame, pd.DataFrame], clickhouse_session: Any
) -> None:
    for rows in contracts(case):
        sql = compile_sql(CASES[case], dialect="clickhouse", rows=rows, source=source_for("clickhouse"))
        expected = ROWS[rows](*tables, CASES[case], SEED_SOURCE)
        assert_rows_equal(load.clickhouse_rows(clickhouse_session, sql), expected)


def test_the_check_counts_units_in_two_variants(
    tables: tuple[pd.DataFrame, pd.DataFrame], duckdb_dao: Dao
) -> None:
    result = runner.run(CASES["plain"], duckdb_dao, dialect="duckdb", source=SEED_SOURCE, close=False)
    checks = result.evaluation.checks
    check = checks[checks["check_id"] == "multiple_exposures"]
    values = dict(zip(check["variable_id"], check["value"], strict=True))
    marked = result.frame[result.frame["exp_variant_id"].str.startswith("@multiple:")]
    assert (
        values["excluded_a"] + values["excluded_b"] == marked["n"][marked["metric_id"] == "@exposure"].sum()
    )
    assert values["excluded_a"] > 0 and values["excluded_b"] > 0
    assert set(result.evaluation.variants) == {"a", "b"}


@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_a_column_the_warehouse_lacks_is_a_connector_error_naming_it(
    engine: str, request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    source = source_for(engine)
    missing = source.model_copy(
        update={"events": (source.events[0].model_copy(update={"partition_date": "event_day"}),)}
    )
    with pytest.raises(ConnectorError, match="event_day"):
        runner.run(CASES["plain"], dao, dialect=engine, source=missing, close=False)
