"""One question, two layouts: the demo's attributed events and the same data as an exposure log
and a raw events table (one first exposure per unit, every event after it) give the same rows."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.demo import START, demo_experiment, generate_events
from expsql.models import Metric
from expsql.source import Source, validate_source
from expsql.testing.reference import assert_rows_equal

DIMENSIONS = {"product": "string", "element": "string"}


def as_exposures_and_events(attributed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exposure rows as a log (each unit's first at the window's start), the rest as events at
    noon of their day, their ``cnt`` as the events' count column."""
    is_exposure = (attributed["goal"] == "exposure").to_numpy()
    exposures = attributed[is_exposure].rename(columns={"exp_variant_id": "variant_id"})
    first = ~exposures["unit_id"].duplicated()
    day = pd.to_datetime(exposures["date"])
    exposures = exposures.assign(timestamp=day.where(~first, pd.Timestamp(START)) + pd.Timedelta(seconds=1))
    events = attributed[~is_exposure].rename(columns={"goal": "event", "cnt": "count"})
    events = events.assign(timestamp=pd.to_datetime(events["date"]) + pd.Timedelta(hours=12))
    return (
        exposures[["unit_id", "exp_id", "variant_id", "timestamp"]],
        events[["unit_id", "event", "value", "count", "timestamp", *DIMENSIONS]],
    )


@pytest.fixture(scope="module")
def database() -> Iterator[duckdb.DuckDBPyConnection]:
    attributed = generate_events(units=3_000, seed=7)
    exposures, events = as_exposures_and_events(attributed)
    connection = duckdb.connect(":memory:")
    for name, frame in {"attributed": attributed, "exposures": exposures, "events": events}.items():
        connection.register("frame", frame)
        connection.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')  # our constant names
        connection.unregister("frame")
    yield connection
    connection.close()


@pytest.mark.parametrize("rows", ["goals", "metrics", "units"])
def test_both_layouts_give_the_same_rows(database: duckdb.DuckDBPyConnection, rows: str) -> None:
    experiment = demo_experiment()
    seed = Source(table="attributed", dimensions=DIMENSIONS)  # type: ignore[arg-type]
    exposures = validate_source(
        {"exposures": {}, "events": {"columns": {"count": "count"}, "dimensions": DIMENSIONS}}
    )
    expected = database.execute(compile_sql(experiment, rows=rows, source=seed)).df()
    actual = database.execute(compile_sql(experiment, rows=rows, source=exposures)).df()
    assert len(expected) > 0
    if rows != "metrics":  # the log has no aggregation type: both are the same events
        assert set(expected["agg_type"]) == {"unit", "global"}
    assert_rows_equal(actual, expected)


def test_both_layouts_give_the_same_quantile_rows(database: duckdb.DuckDBPyConnection) -> None:
    """Unit and event quantiles (a dimension-filtered term, ``ignore_zeros``) read the same
    observations through either layout: the same order statistics and cluster sums."""
    experiment = demo_experiment()
    quantiles = [
        Metric(
            id=10,
            name="median net revenue",
            nominator="value(user.unit.conversion) - value(user.unit.refund)",
            quantile=0.5,
        ),
        Metric(
            id=11,
            name="revenue per buyer",
            nominator="value(user.unit.conversion)",
            quantile=0.9,
            ignore_zeros=True,
        ),
        Metric(
            id=12,
            name="p_1 order value",
            nominator="value(user.unit.conversion(product=p_1))",
            quantile=0.9,
            quantile_of="event",
        ),
    ]
    experiment = experiment.model_copy(update={"metrics": [*experiment.metrics, *quantiles]})
    seed = Source(table="attributed", dimensions=DIMENSIONS)  # type: ignore[arg-type]
    exposures = validate_source(
        {"exposures": {}, "events": {"columns": {"count": "count"}, "dimensions": DIMENSIONS}}
    )
    expected = database.execute(compile_sql(experiment, rows="metrics", source=seed)).df()
    actual = database.execute(compile_sql(experiment, rows="metrics", source=exposures)).df()
    assert expected["quantile_hat"].notna().sum() == 9
    assert_rows_equal(actual, expected)
