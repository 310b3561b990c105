"""Unit rows evaluate to the scorecard of the compiler's metric rows over the same events.

The unit rows are built from the events of :mod:`expsql.testing.events` by pandas
(:func:`tests.stats.unit_frames.unit_rows`: split into pieces, mixed with rows no goal reads); the
metric rows come from :func:`expsql.compile_sql` executed on DuckDB. Winsorization is checked against metric
rows built from a pandas clip of the per-unit nominator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.contracts import EXPOSURE_ROW_ID, METRIC_KEYS, METRIC_VALUES, UNIT_KEYS, UNIT_VALUES
from expsql.errors import MetricRowsRequired, RowsError
from expsql.models import Experiment
from expsql.stats import DegenerateInputWarning, evaluate
from expsql.stats.evaluation import Evaluation
from expsql.testing.events import generate_events
from expsql.testing.reference import experiment_events, goal_mask, per_unit_sums
from tests.stats.unit_frames import SOURCE, unit_rows

EXPOSURE = "count(user.global.exposure)"
METRICS: list[tuple[str, str]] = [
    ("count(user.unit.click)", EXPOSURE),
    ("value(user.unit.conversion(product=p_1|p_2))", "unique(user.unit.view)"),
    ("value(user.unit.conversion) - value(user.unit.refund)", EXPOSURE),
    ("count(user.unit.click(price>9))", "count(user.unit.view(product=^p_)) + 1"),
    ("value(user.unit.conversion) / count(user.unit.conversion)", "count(user.unit.click)"),
    ("-2 * count(user.unit.refund) + 3", "count(user.unit.view) / 0 + " + EXPOSURE),
    ("unique(user.unit.click) ~ unique(user.unit.refund)", "0.5 * " + EXPOSURE),
    ("count(user.unit.click(product=p_1))", "count(user.unit.click(product=^p_))"),
]
CHECKS: list[dict[str, Any]] = [
    {"id": "srm", "name": "SRM", "denominator": EXPOSURE},
    {
        "id": 2,
        "name": "EVA",
        "type": "SumRatio",
        "nominator": "count(user.global.click)",
        "denominator": EXPOSURE,
    },
]
COMPARED = (
    "count", "mean", "std", "sum_value", "diff", "test_stat", "p_value", "confidence_interval",
    "degrees_of_freedom", "sample_size", "ci_lower", "ci_upper",
)  # fmt: skip


def experiment(metrics: list[tuple[str, str]], **fields: Any) -> Experiment:
    """The experiment of ``metrics``; ``metric_<i>={...}`` adds fields to metric i, any other
    keyword is an experiment field."""
    own = [fields.pop(f"metric_{i}", {}) for i in range(1, len(metrics) + 1)]
    definition: dict[str, Any] = {"id": "exp-1", "control_variant": "a", "unit_type": "user", **fields}
    definition["metrics"] = [
        {"id": i, "name": f"metric {i}", "nominator": nominator, "denominator": denominator} | extra
        for i, ((nominator, denominator), extra) in enumerate(zip(metrics, own, strict=True), start=1)
    ]
    return Experiment.model_validate(definition)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(seed=5)


@pytest.fixture(scope="module")
def database(events: pd.DataFrame) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    connection.register("generated", events)
    connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    connection.unregister("generated")
    yield connection
    connection.close()


def compiled_metric_rows(connection: duckdb.DuckDBPyConnection, definition: Experiment) -> pd.DataFrame:
    return connection.execute(compile_sql(definition, dialect="duckdb", rows="metrics", source=SOURCE)).df()


def assert_same_scorecard(ours: Evaluation, theirs: Evaluation) -> None:
    for column in COMPARED:
        np.testing.assert_allclose(
            ours.metrics[column].to_numpy(dtype=float),
            theirs.metrics[column].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-12,
            err_msg=column,
        )
    assert ours.exposures.equals(theirs.exposures)
    pd.testing.assert_frame_equal(ours.checks, theirs.checks, rtol=1e-9)


@pytest.mark.filterwarnings("ignore::expsql.stats.DegenerateInputWarning")
@pytest.mark.parametrize(
    "window", [{}, {"date_from": "2024-03-03", "date_to": "2024-03-12"}], ids=["all", "window"]
)
def test_unit_rows_give_the_scorecard_of_compiled_metric_rows(
    database: duckdb.DuckDBPyConnection, events: pd.DataFrame, window: dict[str, str]
) -> None:
    definition = experiment(METRICS, checks=CHECKS, **window)
    rows = unit_rows(events, definition)
    ours = evaluate(definition, rows)
    theirs = evaluate(definition, compiled_metric_rows(database, definition))
    assert ours.contract == "unit rows" and theirs.contract == "metric rows"
    assert ours.variants == ("a", "b", "c")
    assert_same_scorecard(ours, theirs)
    assert np.isfinite(ours.metrics["p_value"].to_numpy(dtype=float)).sum() >= 10


def test_rows_of_one_unit_are_summed_before_squaring(events: pd.DataFrame) -> None:
    definition = experiment(METRICS[:3])
    rows = unit_rows(events, definition)
    whole = rows.groupby([*UNIT_KEYS, *definition.dimension_names()], as_index=False)[list(UNIT_VALUES)].sum()
    assert len(whole) < len(rows)
    split, merged = evaluate(definition, rows).metrics, evaluate(definition, whole).metrics
    np.testing.assert_allclose(split["std"].to_numpy(float), merged["std"].to_numpy(float), rtol=1e-12)


def per_unit_nominator(events: pd.DataFrame, definition: Experiment) -> pd.DataFrame:
    """Per exposed unit: exposure count and ``value(conversion) - value(refund)``, in pandas."""
    scoped = experiment_events(events, definition, SOURCE)
    (metric,) = definition.metrics
    exposed = per_unit_sums(scoped[goal_mask(scoped, definition.exposure_goal.key, SOURCE)], SOURCE)
    exposed = exposed[exposed["cnt"] > 0]
    terms = [
        per_unit_sums(scoped[goal_mask(scoped, goal.key, SOURCE)], SOURCE)["value"].reindex(exposed.index)
        for goal in (metric.nominator_expr.left, metric.nominator_expr.right)  # type: ignore[union-attr]
    ]
    x = terms[0].fillna(0) - terms[1].fillna(0)
    return pd.DataFrame({"x": x, "y": exposed["cnt"]}).reset_index()


def clipped_metric_rows(per_unit: pd.DataFrame, lower: float, upper: float) -> pd.DataFrame:
    """Metric rows of the clipped nominator: pooled quantiles (linear), clip, squares after."""
    x = per_unit["x"]
    low = x.quantile(lower / 100) if lower else None
    clipped = x.clip(low, x.quantile(1 - upper / 100) if upper else None)
    frame = per_unit.assign(x=clipped)
    records = []
    for variant, unit in frame.groupby("variant"):
        for row_id, xs, ys in (("1", unit["x"], unit["y"]), (EXPOSURE_ROW_ID, unit["y"], unit["y"])):
            sums = (len(unit), xs.sum(), (xs**2).sum(), ys.sum(), (ys**2).sum(), (xs * ys).sum())
            records.append(("exp-1", variant, row_id, *sums))
    return pd.DataFrame.from_records(records, columns=[*METRIC_KEYS, *METRIC_VALUES])


@pytest.mark.parametrize(("lower", "upper"), [(0, 5), (10, 0), (2.5, 1)])
def test_winsorization_clips_the_pooled_per_unit_nominator(
    events: pd.DataFrame, lower: float, upper: float
) -> None:
    plain = experiment([METRICS[2]])
    definition = experiment(
        [METRICS[2]], metric_1={"outlier_lower_percentile": lower, "outlier_upper_percentile": upper}
    )
    rows = unit_rows(events, definition)
    ours = evaluate(definition, rows)
    expected = evaluate(definition, clipped_metric_rows(per_unit_nominator(events, definition), lower, upper))
    assert_same_scorecard(ours, expected)
    unclipped = evaluate(plain, rows).metrics
    assert not np.allclose(ours.metrics["mean"].to_numpy(float), unclipped["mean"].to_numpy(float))
    # The denominator is untouched: the count of exposed units stays.
    assert ours.metrics["count"].tolist() == unclipped["count"].tolist()


def test_winsorization_on_goal_rows_is_an_error_naming_the_metric() -> None:
    definition = experiment([METRICS[0]], metric_1={"outlier_upper_percentile": 1})
    rows = [
        {"exp_id": "exp-1", "exp_variant_id": "a", "unit_type": "user", "agg_type": "global",
         "goal": "exposure", "count": 5, "sum_sqr_count": 5, "sum_value": 0, "sum_sqr_value": 0,
         "count_unique": 5},
    ]  # fmt: skip
    with pytest.raises(
        MetricRowsRequired, match=r"cannot evaluate goal rows .*metric 1 \(metric 1\) caps outliers"
    ):
        evaluate(definition, rows)


def test_unit_rows_without_exposures_count_no_unit(events: pd.DataFrame) -> None:
    definition = experiment([METRICS[0]])
    rows = unit_rows(events, definition)
    zero_exposures = rows.assign(count=rows["count"].where(rows["goal"] != "exposure", 0))
    for unexposed in (rows[rows["goal"] != "exposure"], zero_exposures):
        with pytest.warns(DegenerateInputWarning, match="variant a: the mean is not finite"):
            evaluation = evaluate(definition, unexposed)
        assert evaluation.metrics["count"].tolist() == [0, 0, 0]
        assert evaluation.exposures["exposures"].tolist() == [0, 0, 0]


@pytest.mark.filterwarnings("ignore::expsql.stats.DegenerateInputWarning")
def test_unit_rows_are_validated() -> None:
    definition = experiment([METRICS[0]])
    row = {"exp_id": "exp-1", "exp_variant_id": "a", "unit_type": "user", "agg_type": "unit", "goal": "click",
           "unit_id": "u1", "count": "2", "sum_value": "1.5"}  # fmt: skip
    assert evaluate(definition, [row]).contract == "unit rows"
    with pytest.raises(RowsError, match=r"column 'count' holds a non-numeric value 'two' in row 0"):
        evaluate(definition, [row | {"count": "two"}])
    with pytest.raises(RowsError, match=r"'count' must not be negative.*unit_id='u1'"):
        evaluate(definition, [row | {"count": -1}])
    with pytest.raises(RowsError, match=r"other experiments \('exp-2'\)"):
        evaluate(definition, [row | {"exp_id": "exp-2"}])
    dimensional = experiment([("count(user.unit.click(product=p_1))", EXPOSURE)])
    with pytest.raises(RowsError, match=r"unit rows lack the dimension columns .*: product"):
        evaluate(dimensional, [row])
