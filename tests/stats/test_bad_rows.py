"""Bad rows, both contracts: a RowsError, or a warning naming metric and variant and the rest evaluated.

Two metrics read different goals (rows), so a bad cell of one must leave the other exactly as it
is with clean rows: that is the "rest of the evaluation still comes out" half of each test.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.errors import RowsError
from expsql.stats import Evaluation, RowsWarning, evaluate
from tests.stats.frames import experiment, exposure_row, goal_row, metric, metric_row

DEFINITION = experiment(
    [metric(1, "value(user.unit.order)"), metric(2, "count(user.unit.click)")], variants=["a", "b"]
)
GOALS = [
    exposure_row("a", 1000),
    exposure_row("b", 1000),
    goal_row("a", "order", count=100, sum_value=5000.0, sum_sqr_value=600000.0),
    goal_row("b", "order", count=110, sum_value=5600.0, sum_sqr_value=650000.0),
    goal_row("a", "click", count=300, sum_sqr_count=500),
    goal_row("b", "click", count=330, sum_sqr_count=560),
]
METRICS = [
    metric_row("a", "@exposure", 1000, 1000, 1000, 1000, 1000, 1000),
    metric_row("b", "@exposure", 1000, 1000, 1000, 1000, 1000, 1000),
    metric_row("a", "1", 1000, 5000.0, 600000.0, 1000, 1000, 5000.0),
    metric_row("b", "1", 1000, 5600.0, 650000.0, 1000, 1000, 5600.0),
    metric_row("a", "2", 1000, 300, 500, 1000, 1000, 300),
    metric_row("b", "2", 1000, 330, 560, 1000, 1000, 330),
]
ROWS = {"goal rows": GOALS, "metric rows": METRICS}
#: Row position of metric 1's row of variant b, and the name of a count-like column, per contract.
ORDER_B = 3
COUNT = {"goal rows": "count", "metric rows": "n"}
#: A column metric 1 reads that must not be negative (metric 1 reads value(), not count(), of order).
NON_NEGATIVE = {"goal rows": "sum_sqr_value", "metric rows": "n"}
SQUARES = {"goal rows": "sum_sqr_value", "metric rows": "sum_x2"}
CONTRACTS = pytest.mark.parametrize("contract", ["goal rows", "metric rows"])


def _evaluate(rows: list[dict[str, Any]] | pd.DataFrame) -> tuple[Evaluation, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluation = evaluate(DEFINITION, pd.DataFrame(rows))
    return evaluation, [str(w.message) for w in caught if issubclass(w.category, RowsWarning)]


def _metric(evaluation: Evaluation, metric_id: int) -> pd.DataFrame:
    metrics = evaluation.metrics
    return metrics[metrics["metric_id"] == metric_id].reset_index(drop=True)


def _clean(contract: str) -> Evaluation:
    return _evaluate(ROWS[contract])[0]


def _with(contract: str, row: int, **values: Any) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS[contract])
    for column, value in values.items():
        if isinstance(value, str):
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


def _metric_2_is_untouched(evaluation: Evaluation, contract: str) -> None:
    pd.testing.assert_frame_equal(_metric(evaluation, 2), _metric(_clean(contract), 2))


@CONTRACTS
def test_missing_columns_are_a_rows_error_naming_them(contract: str) -> None:
    frame = pd.DataFrame(ROWS[contract]).drop(columns=[SQUARES[contract]])
    with pytest.raises(RowsError, match=f"miss columns.*{SQUARES[contract]}"):
        evaluate(DEFINITION, frame)


@CONTRACTS
def test_text_in_a_numeric_column_is_a_rows_error_naming_row_variant_and_metric(contract: str) -> None:
    frame = _with(contract, ORDER_B, **{SQUARES[contract]: "n/a"})
    where = "goal='order'" if contract == "goal rows" else "metric_id='1'"
    with pytest.raises(RowsError, match=f"non-numeric value 'n/a' in row 3 \\(exp_variant_id='b', .*{where}"):
        evaluate(DEFINITION, frame)


@CONTRACTS
def test_a_column_of_booleans_is_a_rows_error(contract: str) -> None:
    frame = pd.DataFrame(ROWS[contract]).assign(**{COUNT[contract]: True})
    with pytest.raises(RowsError, match=f"'{COUNT[contract]}' must be numeric, got bool"):
        evaluate(DEFINITION, frame)


@CONTRACTS
def test_rows_of_other_experiments_are_a_rows_error(contract: str) -> None:
    frame = pd.DataFrame(ROWS[contract])
    frame.loc[0, "exp_id"] = "another"
    with pytest.raises(RowsError, match="rows of other experiments \\('another'\\)"):
        evaluate(DEFINITION, frame)


@CONTRACTS
@pytest.mark.parametrize("bad", ["negative", "infinite"])
def test_a_negative_count_or_an_infinity_makes_that_metric_and_variant_nan_with_a_warning(
    contract: str, bad: str
) -> None:
    column = NON_NEGATIVE[contract] if bad == "negative" else SQUARES[contract]
    evaluation, messages = _evaluate(
        _with(contract, ORDER_B, **{column: -5 if bad == "negative" else np.inf})
    )
    place = "goal user.unit.order variant b" if contract == "goal rows" else "metric row '1' variant b"
    assert len(messages) == 1
    assert f"'{column}' is {bad}" in messages[0]
    assert place in messages[0] and "metric 1 (metric 1)" in messages[0]
    assert messages[0] in evaluation.warnings
    assert any("metric 1 (metric 1) variant b: its rows" in w for w in evaluation.warnings)
    tested = _metric(evaluation, 1).set_index("exp_variant_id")
    assert np.isnan(tested.loc["b", ["p_value", "test_stat", "ci_lower", "ci_upper"]].to_numpy(float)).all()
    _metric_2_is_untouched(evaluation, contract)


@CONTRACTS
def test_a_bad_control_cell_leaves_the_metrics_treatments_untested(contract: str) -> None:
    evaluation, messages = _evaluate(_with(contract, ORDER_B - 1, **{NON_NEGATIVE[contract]: -1}))
    assert "variant a" in messages[0]
    assert np.isnan(_metric(evaluation, 1)["p_value"].to_numpy(float)[1])
    _metric_2_is_untouched(evaluation, contract)


@CONTRACTS
def test_a_missing_value_counts_as_zero_with_a_warning(contract: str) -> None:
    column = "sum_value" if contract == "goal rows" else "sum_x"
    evaluation, messages = _evaluate(_with(contract, ORDER_B, **{column: np.nan}))
    zero, _ = _evaluate(_with(contract, ORDER_B, **{column: 0.0}))
    assert len(messages) == 1
    assert f"'{column}' is missing (NULL or NaN) and counted as 0" in messages[0]
    assert "variant b" in messages[0] and "metric 1 (metric 1)" in messages[0]
    pd.testing.assert_frame_equal(evaluation.metrics, zero.metrics)


def test_a_bad_goal_rows_cell_no_metric_reads_changes_nothing() -> None:
    # Metric 2 reads count() of click: the value columns of its goal rows are never read (every
    # column of a metric row is).
    evaluation, messages = _evaluate(_with("goal rows", ORDER_B + 2, sum_sqr_value=-1.0))
    assert messages == []
    pd.testing.assert_frame_equal(evaluation.metrics, _clean("goal rows").metrics)


@CONTRACTS
def test_duplicate_rows_are_summed_with_a_warning(contract: str) -> None:
    # Metric 1's row of b split in two halves, then the same rows given twice: both are sums.
    half = {k: v / 2 if isinstance(v, float | int) else v for k, v in ROWS[contract][ORDER_B].items()}
    rows = [r for i, r in enumerate(ROWS[contract]) if i != ORDER_B] + [half, half]
    evaluation, messages = _evaluate(rows)
    assert len(messages) == 1
    assert (
        "duplicate rows" in messages[0] and "variant b (2 rows, read by metric 1 (metric 1))" in messages[0]
    )
    pd.testing.assert_frame_equal(evaluation.metrics, _clean(contract).metrics)


@CONTRACTS
def test_rows_of_variants_outside_the_list_are_dropped_with_a_warning(contract: str) -> None:
    stray = [{**row, "exp_variant_id": "z"} for row in ROWS[contract][:3]]
    evaluation, messages = _evaluate([*ROWS[contract], *stray])
    assert messages == [
        "experiment exp: ignoring 3 row(s) of variants ['z'] that are not among variants ['a', 'b']"
    ]
    assert evaluation.warnings == tuple(messages)
    pd.testing.assert_frame_equal(evaluation.metrics, _clean(contract).metrics)


def test_metric_rows_of_unknown_ids_are_dropped_with_a_warning() -> None:
    evaluation, messages = _evaluate([*METRICS, metric_row("a", "99", 1, 1, 1, 1, 1, 1)])
    assert messages == [
        "ignoring 1 metric row(s) of metric ids '99', which are no metric or check of experiment exp"
    ]
    pd.testing.assert_frame_equal(evaluation.metrics, _clean("metric rows").metrics)


@CONTRACTS
def test_a_negative_variance_from_inconsistent_sums_is_nan_for_that_metric_and_variant(contract: str) -> None:
    # Σx² below (Σx)²/n: sums of squares that do not belong to the sums.
    evaluation, _ = _evaluate(_with(contract, ORDER_B, **{SQUARES[contract]: 5600.0**2 / 1000 / 2}))
    assert any(
        "metric 1 (metric 1) variant b: negative variance estimate" in message
        for message in evaluation.warnings
    )
    tested = _metric(evaluation, 1).set_index("exp_variant_id")
    assert np.isnan(tested.loc["b", ["std", "p_value", "confidence_interval"]].to_numpy(float)).all()
    assert np.isfinite(tested.loc["b", "mean"])
    _metric_2_is_untouched(evaluation, contract)
