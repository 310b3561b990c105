"""CUPED covariates (``cuped_lookback_days``) on every engine: the compiled metric rows' covariate
sums and the unit rows' pre-period sums on DuckDB, PostgreSQL, Spark (and ClickHouse through chdb)
equal the independent pandas oracle (:mod:`expsql.testing.attribution_reference`) on the adversarial data of
the exposures layout (:mod:`expsql.testing.exposure_events`), plus events exactly at ``t0 - lookback`` (in)
and one second before it (out), and decoy ``exposure`` events inside the pre-period.

Covered: a mean metric (exposure denominator: covariate 1 per unit), a ratio metric with a
dimension filter, a compound metric, a metric with ``cuped: false`` (NULL covariates), a winsorized
metric (its covariate capped over the real units' pre-period values), goal and trigger filters
(pre-period events never trigger), ``multiple_exposures`` both ways (the pseudo-variants' rows),
an exposure filter, a conversion delay and window, per-metric windows (the covariate keeps the
fixed pre-period), three variants, a lookback of a fractional number of days.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.contracts import METRIC_COVARIATE_VALUES, METRIC_KEYS, METRIC_VALUES, UNIT_COVARIATE_VALUES
from expsql.dialects import Dao
from expsql.errors import MetricRowsRequired
from expsql.models import Experiment
from expsql.source import ExposuresSource, validate_source
from expsql.testing import attribution_reference as reference
from expsql.testing import load
from expsql.testing.exposure_events import (
    DATE_FROM,
    DATE_TO,
    DELAY_HOURS,
    GOALS,
    PRODUCTS,
    SOURCE,
    WINDOW_HOURS,
)
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from tests.engines.exposures_daos import dao_fixtures

pytestmark = pytest.mark.engine("cuped")

EXPOSURE = "count(user.global.exposure)"
MEAN = {"nominator": "count(user.unit.click)", "denominator": EXPOSURE}
RATIO = {"nominator": "value(user.unit.purchase(product=p_1|p_10))", "denominator": "unique(user.unit.view)"}
COMPOUND = {
    "nominator": "value(user.unit.purchase) - value(user.unit.purchase(product=^p_))"
    " + 2 * count(user.unit.view)",
    "denominator": "count(user.unit.click) + count(user.unit.exposure(platform=web))",
}
OFF = {"nominator": "value(user.unit.purchase)", "denominator": EXPOSURE, "cuped": False}
WINSORIZED = {
    "nominator": "value(user.unit.purchase) + count(user.unit.click)",
    "denominator": EXPOSURE,
    "outlier_upper_percentile": 5,
    "outlier_lower_percentile": 2,
}
METRICS = [MEAN, RATIO, COMPOUND, OFF, WINSORIZED]
CHECKS = [{"id": 1, "name": "SRM", "denominator": EXPOSURE}]
FILTERS = [
    {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10", "q_1"], "goal": "purchase"},
    {"scope": "trigger", "goal": "view"},
]
ATTRIBUTION = {"conversion_delay_hours": DELAY_HOURS, "conversion_window_hours": WINDOW_HOURS}
#: Every lookback the cases use (days): the data has events at ``t0 - lookback`` and 1 s before.
LOOKBACKS = (2, 1.5, 3, 1)


def experiment(metrics: list[dict[str, Any]], exp_id: str = "exp-1", **fields: Any) -> Experiment:
    numbered = [{"id": i, "name": f"metric {i}", **m} for i, m in enumerate(metrics, start=1)]
    window = {"date_from": DATE_FROM.isoformat(), "date_to": DATE_TO.isoformat()}
    base = {"id": exp_id, "control_variant": "a", "unit_type": "user", **window, "checks": CHECKS}
    return Experiment.model_validate({**base, **fields, "metrics": numbered})


CASES: dict[str, Experiment] = {
    "filters, multiple excluded": experiment(METRICS, filters=FILTERS, cuped_lookback_days=2),
    "filters, first variant": experiment(
        METRICS, filters=FILTERS, multiple_exposures="first", cuped_lookback_days=1.5
    ),
    "delay and window, three variants": experiment(
        METRICS,
        "exp-2",
        filters=[*FILTERS[:1], {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]}],
        cuped_lookback_days=3,
        **ATTRIBUTION,
    ),
    "per-metric windows": experiment(
        [MEAN, {**RATIO, "conversion_window_hours": 2}, {**WINSORIZED, "conversion_delay_hours": 25}, OFF],
        # A goal filter on every goal, and a trigger, which reads the experiment's window only.
        filters=[
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_2", "p%1", "q_1"]},
            {"scope": "trigger", "goal": "view"},
        ],
        cuped_lookback_days=1,
        **ATTRIBUTION,
    ),
}
ROWS: dict[str, Callable[..., pd.DataFrame]] = {
    "metrics": reference.metric_rows,
    "units": reference.unit_rows,
}


def contracts(case: str) -> list[str]:
    return ["metrics"] if CASES[case].windows_differ() else ["metrics", "units"]


def with_pre_period_boundaries(exposures: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``events`` plus, for every third evaluated unit of each experiment and each lookback L,
    an event at exactly ``t0 - L`` (in the pre-period), one at ``t0 - L - 1 s`` (out) and a decoy
    of goal ``exposure`` at ``t0 - 1 h`` (never counted)."""
    rng = np.random.default_rng(12)
    source = source_for("duckdb")
    rows = []
    for exp_id in ("exp-1", "exp-2"):
        _, units = reference._exposed_units(exposures, experiment([], exp_id), source)
        for unit, t0 in zip(units["_unit"], units["_t0"], strict=True):
            if unit.startswith("u") and int(unit[1:]) % 3:
                continue
            for days in LOOKBACKS:
                start = t0 - pd.Timedelta(days=days)
                for when, goal in (
                    (start, GOALS[rng.integers(len(GOALS))]),
                    (start - pd.Timedelta(seconds=1), GOALS[rng.integers(len(GOALS))]),
                    (t0 - pd.Timedelta(hours=1), "exposure"),
                ):
                    value = round(float(rng.gamma(2, 7.5)), 2)
                    value = float(rng.integers(0, 3)) if goal == "click" else value
                    product = PRODUCTS[rng.integers(len(PRODUCTS))]
                    rows.append((unit, goal, value, when, product, int(rng.integers(0, 4))))
    extra = pd.DataFrame.from_records(rows, columns=list(events.columns))
    extra["timestamp"] = pd.to_datetime(extra["timestamp"]).astype("datetime64[ns]")
    extra["count"] = extra["count"].astype("Int64")
    return pd.concat([events, extra], ignore_index=True)


@cache
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    exposures, events = generate(seed=7, units=200)
    return exposures, with_pre_period_boundaries(exposures, events)


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return data()


def source_for(engine: str) -> ExposuresSource:
    """The tables' names in ``engine`` (engines are shared with other test modules)."""
    prefix = "" if engine in ("duckdb", "clickhouse") else "cuped_"
    names = {"exposures": {"table": f"{prefix}exposures"}, "events": {"table": f"{prefix}events"}}
    return validate_source({key: {**SOURCE[key], **names[key]} for key in SOURCE})  # type: ignore[index]


SEED_SOURCE = source_for("duckdb")


@cache
def expected_rows(case: str, rows: str) -> pd.DataFrame:
    return ROWS[rows](*data(), CASES[case], SEED_SOURCE)


duckdb_dao, postgres_dao, spark_dao, clickhouse_session = dao_fixtures("cuped_")


def test_the_oracle_sees_the_adversarial_pre_period(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The data exercises what the cases claim: pre-period events at exactly ``t0 - L`` counted,
    one second earlier not, pseudo-variant and cuped: false rows, units with pre-period events only."""
    exposures, events = tables
    case = CASES["filters, multiple excluded"]
    pre = reference.pre_period(exposures, events, case, SEED_SOURCE)
    assert len(pre) > 100 and not (pre["goal"] == "exposure").any()
    metrics = expected_rows("filters, multiple excluded", "metrics")
    adjusted = metrics[metrics["metric_id"].isin(["1", "2", "3", "5"])]
    assert adjusted["sum_xc"].notna().all() and (adjusted["sum_x_xc"] != 0).any()
    assert metrics[metrics["metric_id"].isin(["4", "@check:1", "@exposure"])]["sum_xc"].isna().all()
    # A trigger filter drops the pseudo-variants' units (they have no events); without one they stay.
    assert not metrics["exp_variant_id"].str.startswith("@multiple:").any()
    three = expected_rows("delay and window, three variants", "metrics")
    pseudo = three[three["exp_variant_id"].str.startswith("@multiple:") & (three["metric_id"] == "5")]
    assert len(pseudo) and pseudo["sum_xc"].notna().all()
    mean = metrics[(metrics["metric_id"] == "1")]
    np.testing.assert_array_equal(mean["sum_yc"], mean["n"])  # an exposure denominator: yc = 1
    units = expected_rows("filters, multiple excluded", "units")
    assert ((units["count"] == 0) & (units["pre_count"] > 0)).any()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_cuped_rows_equal_the_pandas_oracle(engine: str, case: str, request: pytest.FixtureRequest) -> None:
    dao: Dao = request.getfixturevalue(f"{engine}_dao")
    for rows in contracts(case):
        expected = expected_rows(case, rows)
        actual = dao.execute(compile_sql(CASES[case], dialect=engine, rows=rows, source=source_for(engine)))
        reference.assert_rows_equal(actual, expected)


def test_clickhouse_cuped_rows_equal_the_pandas_oracle(clickhouse_session: Any) -> None:
    case = "filters, multiple excluded"
    for rows in contracts(case):
        sql = compile_sql(CASES[case], dialect="clickhouse", rows=rows, source=source_for("clickhouse"))
        reference.assert_rows_equal(load.clickhouse_rows(clickhouse_session, sql), expected_rows(case, rows))


def test_goal_rows_are_refused_for_a_cuped_experiment() -> None:
    case = experiment([MEAN, RATIO], cuped_lookback_days=2)
    with pytest.raises(MetricRowsRequired, match="cuped_lookback_days"):
        compile_sql(case, dialect="duckdb", rows="goals", source=SEED_SOURCE)


def test_no_adjusted_metric_no_covariate_columns(duckdb_dao: Dao) -> None:
    """``cuped_lookback_days`` with every metric ``cuped: false``: the rows of an experiment without CUPED."""
    case = experiment([OFF, {**MEAN, "cuped": False}], cuped_lookback_days=2)
    assert not case.cuped_metrics()
    actual = duckdb_dao.execute(compile_sql(case, dialect="duckdb", rows="metrics", source=SEED_SOURCE))
    assert list(actual.columns) == [*METRIC_KEYS, *METRIC_VALUES]
    assert not set(METRIC_COVARIATE_VALUES) & set(actual.columns)
    units = duckdb_dao.execute(compile_sql(case, dialect="duckdb", rows="units", source=SEED_SOURCE))
    assert not set(UNIT_COVARIATE_VALUES) & set(units.columns)
