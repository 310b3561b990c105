"""contract_frame: the row contracts' names and types, whatever the engine handed back."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from expsql.dialects.frames import contract_frame


def test_decimals_become_int64_counts_and_float64_sums() -> None:
    frame = pd.DataFrame(
        {
            "exp_variant_id": ["a", "b"],
            "count": [Decimal("3"), Decimal("12345678901234")],
            "sum_value": [Decimal("1.25"), Decimal("0.1")],
            "n": [Decimal(2), Decimal(5)],
        }
    )
    result = contract_frame(frame)
    assert result["count"].dtype == np.int64
    assert result["count"].tolist() == [3, 12345678901234]
    assert result["n"].dtype == np.int64
    assert result["sum_value"].dtype == np.float64
    assert result["sum_value"].tolist() == [1.25, 0.1]


def test_upper_case_contract_columns_are_renamed_and_others_kept() -> None:
    frame = pd.DataFrame({"EXP_ID": ["e"], "SUM_X": [np.float32(0.5)], "Product": ["p_1"]})
    result = contract_frame(frame)
    assert list(result.columns) == ["exp_id", "sum_x", "Product"]
    assert result["sum_x"].dtype == np.float64


def test_32_bit_counts_widen_to_int64() -> None:
    result = contract_frame(pd.DataFrame({"count_unique": np.array([1, 2], dtype=np.int32)}))
    assert result["count_unique"].dtype == np.int64


def test_missing_count_keeps_the_row_as_float_with_nan() -> None:
    result = contract_frame(pd.DataFrame({"count": [Decimal(1), None]}))
    assert result["count"].dtype == np.float64
    assert np.isnan(result["count"].iloc[1])


def test_fractional_counts_are_not_truncated() -> None:
    result = contract_frame(pd.DataFrame({"count": [1.5, 2.0]}))
    assert result["count"].tolist() == [1.5, 2.0]


def test_decimal_keys_become_numbers() -> None:
    result = contract_frame(
        pd.DataFrame({"exp_variant_id": [Decimal(0), Decimal(1)], "metric_id": ["1", "2"]})
    )
    assert result["exp_variant_id"].tolist() == [0, 1]
    assert result["metric_id"].tolist() == ["1", "2"]


def test_input_frame_is_not_modified() -> None:
    frame = pd.DataFrame({"count": [Decimal(1)]})
    contract_frame(frame)
    assert isinstance(frame["count"].iloc[0], Decimal)
