"""Loading rows from every supported input, recognising the contract, validating values."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from expsql.errors import RowsError
from expsql.stats.detection import detect_contract
from expsql.stats.rows import (
    codes,
    load_rows,
    unknown_variants,
    validate,
    validate_rows,
    variant_order,
)
from tests.stats.frames import experiment, exposure_row, goal_row, metric, metric_row

DEFINITION = experiment([metric(1, "count(user.unit.click(element=button))")])
DIMENSIONS = DEFINITION.dimension_names()
ROWS = [
    exposure_row("a", 100),
    exposure_row("b", 90),
    goal_row("a", "click", count=10, element="button"),
    goal_row("b", "click", count=12, element="button"),
]


def _load_everywhere(tmp_path: Path) -> list[pd.DataFrame]:
    frame = pd.DataFrame(ROWS)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    frame.to_parquet(tmp_path / "rows.parquet")
    (tmp_path / "rows.json").write_text(json.dumps(ROWS))
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS))
    sources = [
        frame,
        ROWS,
        pa.Table.from_pandas(frame),
        *(tmp_path / f"rows.{s}" for s in ("csv", "parquet")),
    ]
    sources += [str(tmp_path / "rows.json"), tmp_path / "rows.jsonl"]
    return [load_rows(source) for source in sources]


def test_every_input_form_loads_to_the_same_validated_rows(tmp_path: Path) -> None:
    loaded = [
        validate(f, detect_contract(f, DIMENSIONS), DEFINITION, DIMENSIONS)
        for f in _load_everywhere(tmp_path)
    ]
    for other in loaded[1:]:
        pd.testing.assert_frame_equal(other, loaded[0])
    assert loaded[0]["element"].tolist() == ["", "", "button", "button"]


def test_unknown_inputs_and_files_are_rows_errors(tmp_path: Path) -> None:
    with pytest.raises(RowsError, match="cannot read rows from a int"):
        load_rows(42)
    with pytest.raises(RowsError, match="no such file"):
        load_rows(tmp_path / "missing.csv")
    (tmp_path / "rows.xlsx").write_text("")
    with pytest.raises(RowsError, match="unknown file type"):
        load_rows(tmp_path / "rows.xlsx")


def test_a_frame_that_fits_neither_contract_lists_the_missing_columns() -> None:
    frame = pd.DataFrame(ROWS).drop(columns=["sum_sqr_value", "goal"])
    with pytest.raises(
        RowsError, match=r"goal rows miss columns goal, sum_sqr_value; metric rows miss columns"
    ):
        detect_contract(frame, DIMENSIONS)


def test_goal_rows_without_a_dimension_column_the_experiment_filters_on_are_refused() -> None:
    with pytest.raises(RowsError, match=r"dimension columns .* element"):
        detect_contract(pd.DataFrame(ROWS).drop(columns=["element"]), DIMENSIONS)


def test_metric_rows_are_recognised() -> None:
    frame = pd.DataFrame([metric_row("a", "1", 1, 1, 1, 1, 1, 1)])
    assert detect_contract(frame, DIMENSIONS) == "metric rows"


def test_negative_counts_and_infinities_are_cell_issues_and_nan_in_the_clean_frame() -> None:
    frame = pd.DataFrame(
        [
            *ROWS,
            goal_row(
                "b", "click", count=-1, sum_sqr_count=1, count_unique=1, sum_value=np.inf, element="button"
            ),
        ]
    )
    valid = validate_rows(frame, "goal rows", DEFINITION, DIMENSIONS)
    found = {(i.kind, i.column): i.rows.tolist() for i in valid.issues}
    assert found == {("negative", "count"): [4], ("infinite", "sum_value"): [4]}
    assert np.isnan(valid.frame.loc[4, ["count", "sum_value"]].to_numpy(float)).all()


def test_non_numeric_values_are_refused() -> None:
    frame = pd.DataFrame(ROWS)
    frame["sum_value"] = frame["sum_value"].astype(object)
    frame.loc[2, "sum_value"] = "twelve"
    with pytest.raises(RowsError, match=r"'sum_value' holds a non-numeric value 'twelve' in row 2 \(exp_var"):
        validate(frame, "goal rows", DEFINITION, DIMENSIONS)


def test_rows_of_another_experiment_are_refused() -> None:
    frame = pd.DataFrame([*ROWS, exposure_row("a", 5, exp_id="other")])
    with pytest.raises(RowsError, match="rows of other experiments \\('other'\\)"):
        validate(frame, "goal rows", DEFINITION, DIMENSIONS)


def test_missing_values_are_zero_and_reported_and_missing_dimensions_are_empty_labels() -> None:
    frame = pd.DataFrame(ROWS)
    frame.loc[0, "sum_value"] = None
    frame.loc[3, "element"] = np.nan
    valid = validate_rows(frame, "goal rows", DEFINITION, DIMENSIONS)
    assert valid.frame.loc[0, "sum_value"] == 0
    assert valid.frame.loc[3, "element"] == ""
    assert [(i.kind, i.column, i.rows.tolist()) for i in valid.issues] == [("missing", "sum_value", [0])]


def test_variants_are_sorted_with_the_control_or_taken_from_the_experiment() -> None:
    observed = pd.Series(["c", "b", "c"])
    assert variant_order(DEFINITION, observed) == ["a", "b", "c"]
    explicit = experiment([metric(1, "count(user.unit.click)")], variants=["b", "a"])
    assert variant_order(explicit, observed) == ["b", "a"]
    assert unknown_variants(["b", "a"], observed) == {"c": 2}


def test_decimal_values_from_a_warehouse_numeric_column_are_numbers() -> None:
    frame = pd.DataFrame(ROWS)
    frame["sum_value"] = [Decimal("1.50"), Decimal("0"), Decimal("2.25"), None]
    clean = validate(frame, "goal rows", DEFINITION, DIMENSIONS)
    assert clean["sum_value"].tolist() == [1.5, 0.0, 2.25, 0.0]


def test_boolean_values_are_not_numbers() -> None:
    frame = pd.DataFrame(ROWS)
    frame["count"] = True
    with pytest.raises(RowsError, match="'count' must be numeric, got bool"):
        validate(frame, "goal rows", DEFINITION, DIMENSIONS)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("longer_row.csv", "a,b\n1,2\n3,4,5\n", "Expected 2 fields in line 3, saw 3"),
        ("longer_first_row.csv", "a,b\n1,2,3\n", "does not match length of data"),
        ("empty.csv", "", "No columns to parse"),
        ("broken.jsonl", '{"a": 1}\n{broken\n', "Expecting property name"),
        ("truncated.parquet", "PAR1", "Parquet"),
    ],
)
def test_malformed_files_are_rows_errors_naming_the_file(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RowsError, match=rf"{name}: cannot be read as \.\w+: .*{reason}"):
        load_rows(path)


def test_variant_codes_mark_values_outside_the_categories() -> None:
    observed = pd.Series(["b", "a", "x", "b", ""], dtype=object)
    assert codes(observed, ["a", "b"]).tolist() == [1, 0, -1, 1, -1]
