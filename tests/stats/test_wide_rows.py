"""Wide rows (ep-stats' per-variant table): recognised, converted to goal rows, checked by scipy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from expsql.errors import MetricRowsRequired, RowsError
from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.stats.detection import detect_contract
from expsql.stats.wide_rows import wide_goal_rows, wide_misfit

BOOKING_RATE = {"id": 1, "name": "Booking rate", "numerator": "bookings", "denominator": "views"}
REVENUE = {"id": 2, "name": "Revenue per view", "numerator": "revenue", "denominator": "views"}
SRM = {"id": 1, "name": "SRM", "denominator": "views"}


def experiment(*metrics: dict[str, Any], **fields: Any) -> Experiment:
    data = {"id": "wide", "control_variant": "a", "unit_type": "user", "metrics": list(metrics)} | fields
    return Experiment.model_validate(data)


def per_unit(seed: int = 7) -> dict[str, pd.DataFrame]:
    """Per view (one view per unit): a 0/1 booking and a gamma revenue, three variants."""
    rng = np.random.default_rng(seed)
    units = {"a": 900, "b": 950, "c": 870}
    rates = {"a": 0.10, "b": 0.13, "c": 0.10}
    frames = {}
    for variant, n in units.items():
        booked = (rng.random(n) < rates[variant]).astype(float)
        frames[variant] = pd.DataFrame({"bookings": booked, "revenue": booked * rng.gamma(2.0, 60.0, n)})
    return frames


def wide(frames: dict[str, pd.DataFrame], squares: bool = True) -> pd.DataFrame:
    """The analyst's table: experiment, variant, totals and (optionally) sums of squares."""
    records = []
    for variant, units in frames.items():
        record = {
            "experiment": "wide",
            "variant": variant,
            "views": float(len(units)),
            "bookings": units["bookings"].sum(),
            "revenue": units["revenue"].sum(),
        }
        if squares:
            record |= {
                "bookings_squared": (units["bookings"] ** 2).sum(),
                "revenue_squared": (units["revenue"] ** 2).sum(),
            }
        records.append(record)
    return pd.DataFrame.from_records(records)


def test_wide_rows_give_per_variant_means_and_variances_scipy_agrees_with() -> None:
    frames = per_unit()
    evaluation = evaluate(experiment(BOOKING_RATE, REVENUE, checks=[SRM]), wide(frames))
    assert evaluation.contract == "wide rows"
    metrics = evaluation.metrics.set_index(["metric_id", "exp_variant_id"])
    for metric_id, column in ((1, "bookings"), (2, "revenue")):
        control = frames["a"][column]
        for variant, units in frames.items():
            row = metrics.loc[(metric_id, variant)]
            values = units[column]
            assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
            assert row["std"] == pytest.approx(values.std(ddof=1), rel=1e-9)
            assert row["count"] == len(values) and row["sample_size"] == len(values)
            if variant == "a":
                continue
            welch = stats.ttest_ind(values, control, equal_var=False)
            assert row["absolute_diff"] == pytest.approx(values.mean() - control.mean(), rel=1e-12)
            assert row["degrees_of_freedom"] == np.trunc(welch.df)
            # ep-stats' relative test: delta-method standard error of (m_T - m_C) / m_C.
            se = (
                np.sqrt(
                    values.var() / len(values)
                    + values.mean() ** 2 * control.var() / control.mean() ** 2 / len(control)
                )
                / control.mean()
            )
            assert row["standard_error"] == pytest.approx(se, rel=1e-9)
            raw = 2 * stats.t.sf(abs(row["diff"] / se), welch.df)
            assert row["p_value"] >= raw - 1e-12  # Holm over the two treatments only raises it
    checks = evaluation.checks.set_index("variable_id")["value"]
    assert checks["test_stat"] == pytest.approx(stats.chisquare([len(f) for f in frames.values()]).statistic)
    assert evaluation.exposures["exposures"].tolist() == [0, 0, 0]  # no exposure goal, as in ep-stats


def test_without_squares_the_total_is_its_own_square_for_0_1_goals() -> None:
    frames = per_unit()
    with_squares = evaluate(experiment(BOOKING_RATE), wide(frames)).metrics
    without = evaluate(experiment(BOOKING_RATE), wide(frames, squares=False)).metrics
    pd.testing.assert_frame_equal(with_squares, without)


def test_wide_rows_score_like_the_goal_rows_they_stand_for() -> None:
    frames = per_unit()
    table = wide(frames)
    goal_rows = [
        {"exp_id": "wide", "exp_variant_id": row["variant"], "unit_type": "user", "agg_type": "global",
         "goal": goal, "count": 0, "sum_sqr_count": 0, "sum_value": row[goal],
         "sum_sqr_value": row.get(f"{goal}_squared", row[goal]), "count_unique": 0}
        for row in table.to_dict("records")
        for goal in ("views", "bookings", "revenue")
    ]  # fmt: skip
    definition = experiment(BOOKING_RATE, REVENUE, checks=[SRM])
    ours, theirs = evaluate(definition, table), evaluate(definition, goal_rows)
    assert theirs.contract == "goal rows"
    different = ["sample_size", "power"]  # goal rows: NaN for value() denominators (ep-stats' rule)
    pd.testing.assert_frame_equal(
        ours.metrics.drop(columns=different), theirs.metrics.drop(columns=different)
    )
    pd.testing.assert_frame_equal(ours.checks, theirs.checks)
    assert theirs.metrics["sample_size"].isna().all() and ours.metrics["sample_size"].notna().all()


def test_the_first_two_columns_are_ids_whatever_their_headers() -> None:
    table = wide(per_unit()).rename(columns={"experiment": "exp_id", "variant": "arm"})
    rows = wide_goal_rows(table, experiment(BOOKING_RATE))
    assert set(rows["exp_variant_id"]) == {"a", "b", "c"} and set(rows["goal"]) == {
        "views",
        "bookings",
        "revenue",
    }
    assert (rows[["count", "sum_sqr_count", "count_unique"]] == 0).all().all()
    bookings = rows[rows["goal"] == "bookings"]
    assert bookings["sum_sqr_value"].tolist() == table["bookings_squared"].tolist()


def test_detection_tells_wide_rows_from_the_other_contracts() -> None:
    table = wide(per_unit())
    assert detect_contract(table, []) == "wide rows"
    assert detect_contract(table.astype(str), []) == "wide rows"  # a CSV read as text
    unit = pd.DataFrame([{"exp_id": "x", "exp_variant_id": "a", "unit_type": "user", "agg_type": "unit",
                          "goal": "click", "unit_id": "u1", "count": 1, "sum_value": 0}])  # fmt: skip
    assert detect_contract(unit, []) == "unit rows"
    assert wide_misfit(unit) is not None
    goal_like = table.assign(goal="click")
    with pytest.raises(RowsError) as raised:
        detect_contract(goal_like, [])
    message = str(raised.value)
    assert "goal rows miss columns" in message and "metric rows miss columns" in message
    assert (
        "unit rows miss columns" in message
        and "wide rows need no key columns of the other contracts" in message
    )
    with pytest.raises(RowsError, match=r"wide rows need numeric goal columns .*text in segment"):
        detect_contract(table.assign(segment="mobile"), [])
    with pytest.raises(RowsError, match="wide rows need at least three columns"):
        detect_contract(table[["experiment", "variant"]], [])


def test_a_bad_number_names_its_column_and_row() -> None:
    table = wide(per_unit()).astype(str)
    table.loc[1, "views"] = "12o"
    with pytest.raises(RowsError, match=r"column 'views' holds a non-numeric value '12o' in row 1"):
        evaluate(experiment(BOOKING_RATE), table)


def test_a_missing_variant_column_is_named() -> None:
    table = wide(per_unit()).drop(columns=["variant"])
    with pytest.raises(RowsError, match=r"second column \('views'\) is read as the variant id"):
        evaluate(experiment(BOOKING_RATE), table)


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"numerator": "nights", "denominator": "views"}, r"no column 'nights', which metric 3 .* reads"),
        ({"nominator": "count(user.global.bookings)", "denominator": "value(user.global.views)"},
         r"metric 3 \(m\) reads count\(user.global.bookings\)"),
        ({"nominator": "value(user.unit.bookings)", "denominator": "value(user.global.views)"},
         r"read as value\(user.global.<goal>\); metric 3"),
    ],
)  # fmt: skip
def test_metrics_wide_rows_cannot_serve_are_errors(metric: dict[str, str], message: str) -> None:
    with pytest.raises(RowsError, match=message):
        evaluate(experiment({"id": 3, "name": "m"} | metric), wide(per_unit()))


def test_bad_wide_tables_are_errors() -> None:
    table = wide(per_unit())
    with pytest.raises(
        RowsError, match=r"'nights_squared' holds the squares of goal 'nights', which has no column"
    ):
        evaluate(experiment(BOOKING_RATE), table.assign(nights_squared=1.0))
    with pytest.raises(RowsError, match=r"first column \('experiment'\) holds the experiment id"):
        evaluate(experiment(BOOKING_RATE), table.assign(experiment="other"))
    with pytest.raises(
        RowsError, match=r"'bookings_squared' gives goal 'bookings' a negative sum of squares"
    ):
        evaluate(experiment(BOOKING_RATE), table.assign(bookings_squared=-1.0))
    with pytest.raises(
        MetricRowsRequired, match=r"cannot evaluate wide rows .*metric 1 \(Booking rate\) caps outliers"
    ):
        evaluate(experiment(BOOKING_RATE | {"outlier_upper_percentile": 1.0}), table)
