"""Quantile metrics on DuckDB, PostgreSQL and Spark: the SQL's order statistics and cluster sums
equal a numpy reference (``np.quantile(method="linear")``, ``PERCENTILE_CONT``'s definition)
computed from the same data, to a relative 1e-9; a breakdown gives each segment its own, and
each variant's overall quantile in its own rows.

The data: per-unit revenue (``conversion`` values, several events per unit, many units without
one) and page loads with strong within-unit correlation, each on a ``web`` or ``ios`` platform;
units of another experiment, events of units never exposed, and each unit's ``device`` on its
events, for the breakdown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.contracts import METRIC_CLUSTER_VALUES, METRIC_QUANTILE_VALUES, OVERALL_ROW_PREFIX
from expsql.dialects import Dao, get
from expsql.models import Experiment
from expsql.source import Source
from expsql.testing import load
from expsql.testing.quantile_reference import event_quantile_row, unit_quantile_row

pytestmark = pytest.mark.engine("cross-engine")

TABLE = "quantile_events"
SOURCE = Source(table=TABLE, dimensions={"platform": "string", "device": "string"})
METRICS = [
    {
        "id": 1,
        "name": "revenue",
        "nominator": "value(user.unit.conversion)",
        "denominator": "count(user.global.exposure)",
    },
    {"id": 2, "name": "median revenue", "nominator": "value(user.unit.conversion)", "quantile": 0.5},
    {
        "id": 3,
        "name": "p90 revenue",
        "nominator": "value(user.unit.conversion)",
        "quantile": 0.9,
        "ignore_zeros": True,
    },
    {
        "id": 4,
        "name": "p90 page load",
        "nominator": "value(user.unit.page_load)",
        "quantile": 0.9,
        "quantile_of": "event",
    },
    {
        "id": 5,
        "name": "p50 web page load",
        "nominator": "value(user.unit.page_load(platform=web))",
        "quantile": 0.5,
        "quantile_of": "event",
    },
]
EXPERIMENT = Experiment(id="q", control_variant="a", unit_type="user", metrics=METRICS)
BROKEN_DOWN = Experiment(id="q", control_variant="a", unit_type="user", metrics=METRICS, breakdown=["device"])
ENGINES = ("duckdb", "postgres", "spark")


def quantile_events(seed: int, units: int = 600) -> pd.DataFrame:
    """The events table (seed layout): exposures, conversions and page loads of two experiments."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    for exp_id in ("q", "other"):
        for unit in range(units):
            variant = "ab"[unit % 2]
            device = ("phone", "desktop")[rng.integers(2)]
            uid = f"u{unit}"
            rows.append((exp_id, variant, "global", "exposure", uid, 1.0, None, None, device))
            for _ in range(rng.poisson(0.8)):  # about 45 % of units convert
                rows.append(
                    (
                        exp_id,
                        variant,
                        "unit",
                        "conversion",
                        uid,
                        1.0,
                        round(rng.lognormal(3, 1), 2),
                        None,
                        device,
                    )
                )
            level = rng.lognormal(0, 0.7)
            for _ in range(rng.poisson(3)):
                load_time = round(rng.lognormal(np.log(level), 0.25) * 1000, 1)
                rows.append(
                    (
                        exp_id,
                        variant,
                        "unit",
                        "page_load",
                        uid,
                        1.0,
                        load_time,
                        ("web", "ios")[rng.integers(2)],
                        device,
                    )
                )
    for unit in range(20):  # page loads of units never exposed: no unit of the experiment
        rows.append(("q", "a", "unit", "page_load", f"never{unit}", 1.0, 1e6, "web", "phone"))
    columns = [
        "exp_id",
        "exp_variant_id",
        "agg_type",
        "goal",
        "unit_id",
        "cnt",
        "value",
        "platform",
        "device",
    ]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame.insert(2, "unit_type", "user")
    frame["date"] = dt.date(2026, 12, 1)
    return frame


def reference(events: pd.DataFrame, experiment: Experiment, segment: str | None = None) -> pd.DataFrame:
    """The quantile metrics' columns per variant (and exposure platform), from numpy."""
    events = events[events["exp_id"] == experiment.id]
    exposures = events[events["goal"] == "exposure"]
    records = []
    for variant in ("a", "b"):
        exposed = exposures[exposures["exp_variant_id"] == variant]
        groups = [(None, exposed)] if segment is None else list(exposed.groupby(segment))
        for label, units in groups:
            unit_ids = units["unit_id"].unique()
            of_units = events[(events["exp_variant_id"] == variant) & events["unit_id"].isin(unit_ids)]
            conversions = of_units[of_units["goal"] == "conversion"].groupby("unit_id")["value"].sum()
            revenue = conversions.reindex(unit_ids, fill_value=0.0).to_numpy()
            loads = of_units[of_units["goal"] == "page_load"]
            key = {"exp_variant_id": variant} | ({} if segment is None else {segment: label})
            for metric in experiment.quantile_metrics():
                assert metric.quantile is not None
                if metric.event_quantile:
                    chosen = loads if "web" not in metric.nominator else loads[loads["platform"] == "web"]
                    per_unit = [g["value"].to_numpy() for _, g in chosen.groupby("unit_id")]
                    row = event_quantile_row(per_unit, metric.quantile)
                else:
                    row = unit_quantile_row(revenue, metric.quantile, metric.ignore_zeros)
                records.append(key | {"metric_id": str(metric.id)} | row)
    return pd.DataFrame.from_records(records)


def assert_quantiles_equal(rows: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    ids = set(expected["metric_id"])
    actual = rows[rows["metric_id"].astype(str).isin(ids)].copy()
    actual["metric_id"] = actual["metric_id"].astype(str)
    merged = expected.merge(actual, on=keys, suffixes=("", "_sql"), how="outer", validate="one_to_one")
    assert len(merged) == len(expected), merged
    for column in (*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES):
        want = merged[column].to_numpy(dtype=float)
        got = merged[f"{column}_sql"].to_numpy(dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=column)
    others = rows[~rows["metric_id"].astype(str).isin(ids) & ~_overall(rows)]
    assert others[list(METRIC_QUANTILE_VALUES)].isna().all().all()


def _overall(rows: pd.DataFrame) -> pd.Series:
    return rows["metric_id"].astype(str).str.startswith(OVERALL_ROW_PREFIX)


def assert_overall_rows_equal(rows: pd.DataFrame, expected: pd.DataFrame) -> None:
    """A breakdown's overall rows: each quantile metric's whole-variant quantile, sums 0."""
    overall = rows[_overall(rows)].copy()
    assert (overall[["n", "sum_x", "sum_y"]] == 0).all().all()
    overall["metric_id"] = overall["metric_id"].str.removeprefix(OVERALL_ROW_PREFIX)
    assert_quantiles_equal(overall, expected, ["exp_variant_id", "metric_id"])


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return quantile_events(20261207)


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
def engine_rows(request: pytest.FixtureRequest) -> Callable[[str, Experiment], pd.DataFrame]:
    def rows(engine: str, experiment: Experiment) -> pd.DataFrame:
        dao: Dao = request.getfixturevalue(f"{engine}_dao")
        return dao.execute(compile_sql(experiment, dialect=engine, rows="metrics", source=SOURCE))

    return rows


@pytest.mark.parametrize("engine", ENGINES)
def test_quantile_columns_equal_the_numpy_reference(
    engine: str, events: pd.DataFrame, engine_rows: Callable[[str, Experiment], pd.DataFrame]
) -> None:
    expected = reference(events, EXPERIMENT)
    assert_quantiles_equal(engine_rows(engine, EXPERIMENT), expected, ["exp_variant_id", "metric_id"])


@pytest.mark.parametrize("engine", ENGINES)
def test_each_segment_has_its_own_quantiles(
    engine: str, events: pd.DataFrame, engine_rows: Callable[[str, Experiment], pd.DataFrame]
) -> None:
    expected = reference(events, BROKEN_DOWN, "device")
    rows = engine_rows(engine, BROKEN_DOWN)
    assert_quantiles_equal(rows[~_overall(rows)], expected, ["exp_variant_id", "device", "metric_id"])
    assert_overall_rows_equal(rows, reference(events, EXPERIMENT))


@pytest.mark.parametrize(("experiment", "segment"), [(EXPERIMENT, None), (BROKEN_DOWN, "device")])
def test_clickhouse_quantile_columns_equal_the_numpy_reference(
    events: pd.DataFrame, open_clickhouse: Callable[..., Any], experiment: Experiment, segment: str | None
) -> None:
    clickhouse = open_clickhouse(events, TABLE)
    sql = compile_sql(experiment, dialect="clickhouse", rows="metrics", source=SOURCE)
    keys = ["exp_variant_id", *([segment] if segment else []), "metric_id"]
    rows = load.clickhouse_rows(clickhouse, sql)
    assert_quantiles_equal(rows[~_overall(rows)], reference(events, experiment, segment), keys)
    if segment:
        assert_overall_rows_equal(rows, reference(events, EXPERIMENT))
