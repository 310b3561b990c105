"""The timeline on every engine: DuckDB, PostgreSQL, Spark (and ClickHouse through chdb).

On both layouts, the timeline's last day equals the single-look query's rows **exactly** (the data's
values are whole numbers, so every sum is exact in a double and no summation order can differ),
and its evaluation equals the single look's, number for number; the rows as of every day equal
the reference of the window cut at that day (:mod:`expsql.testing.timeline_reference`).

A winsorized metric's caps are interpolated percentiles, so its capped values are fractions and
the timeline's sums of their increments can differ from the single look's sums of squares in the
last bits: there, equal to a relative 1e-12.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao
from expsql.source import AnySource, Source, validate_source
from expsql.stats import evaluate
from expsql.stats.timeline import row_days, rows_as_of
from expsql.testing import load, timeline_reference
from expsql.testing.attribution_reference import assert_rows_equal
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from expsql.testing.timeline_reference import timeline_experiment
from tests.engines.exposures_daos import dao_fixtures

pytestmark = pytest.mark.engine("timeline")

ENGINES = ("duckdb", "postgres", "spark")
PREFIX = "timeline_"
EXPOSURE = "count(user.global.exposure)"


PURCHASES = [
    {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {"nominator": "value(user.unit.purchase(product=p_1|p_10))", "denominator": "unique(user.unit.view)"},
    {
        "nominator": "value(user.unit.purchase) - value(user.unit.purchase(product=^p_))",
        "denominator": EXPOSURE,
    },
]
EXPOSURES_CASES = {
    "exposures": timeline_experiment(
        PURCHASES,
        conversion_delay_hours=1,
        conversion_window_hours=24,
        filters=[{"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]}],
    ),
    "exposures, cuped and winsorized": timeline_experiment(
        [{**PURCHASES[2], "outlier_upper_percentile": 5, "outlier_lower_percentile": 1}, *PURCHASES[:2]],
        cuped_lookback_days=2,
    ),
}
ATTRIBUTED_CASES = {
    "attributed": timeline_experiment(
        [
            {
                "nominator": "value(user.unit.conversion(product=^p_))",
                "denominator": "unique(user.unit.view)",
            },
            {"nominator": "count(user.unit.click) - value(user.unit.refund)", "denominator": EXPOSURE},
        ],
        filters=[{"scope": "trigger", "goal": "view"}],
    ),
}
CASES = {**EXPOSURES_CASES, **ATTRIBUTED_CASES}
Tables = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


@pytest.fixture(scope="module")
def tables() -> Tables:
    """Exposures, raw events and attributed events whose values are whole numbers."""
    exposures, events = generate(seed=7, units=300)
    events["value"] = events["value"].round()
    attributed = generate_events(seed=7, experiments=1, units=400)
    attributed["value"] = attributed["value"].round()
    return exposures, events, attributed


def source_for(case: str, engine: str) -> AnySource:
    prefix = "" if engine in ("duckdb", "clickhouse") else PREFIX
    if case in ATTRIBUTED_CASES:
        return Source(table=f"{prefix}attributed", dimensions=DIMENSION_TYPES)
    names = {"exposures": {"table": f"{prefix}exposures"}, "events": {"table": f"{prefix}events"}}
    return validate_source({key: {**SOURCE[key], **names[key]} for key in SOURCE})  # type: ignore[index]


duckdb_dao, postgres_dao, spark_dao, clickhouse_session = dao_fixtures(
    PREFIX, ("exposures", "events", "attributed")
)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["exp_variant_id", "metric_id"]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def assert_last_day_is_the_single_look(
    run: Callable[[str], pd.DataFrame], case: str, engine: str, tables: Tables
) -> None:
    chosen = CASES[case]
    source = source_for(case, engine)
    rows = run(compile_sql(chosen, dialect=engine, rows="metrics", source=source))
    single = chosen.model_copy(update={"timeline": None, "date_for": DATE_TO})
    expected = run(compile_sql(single, dialect=engine, rows="metrics", source=source))
    last = rows_as_of(rows, row_days(rows), DATE_TO)
    assert len(expected) > 0
    exact = not chosen.winsorized_metrics()
    tolerance: dict[str, Any] = {"check_exact": True} if exact else {"rtol": 1e-12, "atol": 0}
    pd.testing.assert_frame_equal(_sorted(last), _sorted(expected)[list(last.columns)], **tolerance)
    # And so the statistics: the evaluation (the last day) and the timeline's last look.
    timeline = evaluate(chosen.model_copy(update={"date_for": DATE_TO}), rows)
    looked = evaluate(single, expected)
    pd.testing.assert_frame_equal(
        timeline.metrics, looked.metrics, **({"check_exact": True} if exact else {"rtol": 1e-9})
    )
    frame = timeline.timeline
    assert frame is not None
    days = frame[frame["day"] == DATE_TO].reset_index(drop=True)
    columns = ["metric_id", "exp_variant_id", "count", "mean", "diff", "ci_lower", "ci_upper", "p_value"]
    pd.testing.assert_frame_equal(days[columns], looked.metrics[columns], check_exact=exact, rtol=1e-9)
    assert (days["confidence_level"] == looked.confidence_level).all()


def assert_each_day_is_the_reference(
    run: Callable[[str], pd.DataFrame], case: str, engine: str, tables: Tables
) -> None:
    exposures, events, attributed = tables
    chosen = CASES[case]
    rows = run(compile_sql(chosen, dialect=engine, rows="metrics", source=source_for(case, engine)))
    days = row_days(rows)
    reference_source = source_for(case, "duckdb")
    for day in [DATE_FROM + dt.timedelta(days=k) for k in range(7)]:
        if day < days.min():
            continue
        if case in ATTRIBUTED_CASES:
            assert isinstance(reference_source, Source)
            expected = timeline_reference.attributed_as_of(attributed, chosen, reference_source, day)
            actual = rows_as_of(rows, days, day)
        else:
            expected = timeline_reference.exposures_as_of(exposures, events, chosen, reference_source, day)  # type: ignore[arg-type]
            actual = rows_as_of(rows, days, day)
        assert_rows_equal(actual, expected)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ENGINES)
def test_the_last_day_equals_the_single_look_exactly(
    engine: str, case: str, tables: Tables, request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    assert_last_day_is_the_single_look(dao.execute, case, engine, tables)


@pytest.mark.parametrize("case", ["exposures", "attributed"])
@pytest.mark.parametrize("engine", ENGINES)
def test_rows_as_of_each_day_equal_the_reference(
    engine: str, case: str, tables: Tables, request: pytest.FixtureRequest
) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    assert_each_day_is_the_reference(dao.execute, case, engine, tables)


@pytest.mark.parametrize("case", list(CASES))
def test_clickhouse_last_day_equals_the_single_look_exactly(
    case: str, tables: Tables, clickhouse_session: Any
) -> None:
    run = lambda sql: load.clickhouse_rows(clickhouse_session, sql)  # noqa: E731
    assert_last_day_is_the_single_look(run, case, "clickhouse", tables)


@pytest.mark.parametrize("case", ["exposures", "attributed"])
def test_clickhouse_rows_as_of_each_day_equal_the_reference(
    case: str, tables: Tables, clickhouse_session: Any
) -> None:
    run = lambda sql: load.clickhouse_rows(clickhouse_session, sql)  # noqa: E731
    assert_each_day_is_the_reference(run, case, "clickhouse", tables)


def test_the_values_are_whole_numbers(tables: Tables) -> None:
    """What makes "exactly" hold on every engine: no sum of these values rounds."""
    for frame in tables[1:]:
        values = frame["value"].dropna().to_numpy(dtype=float)
        assert np.array_equal(values, np.round(values))
