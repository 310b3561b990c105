"""The metric rows' unpivot picks each row's sums; a column every row takes from one sum is that sum."""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.unpivot import _picker


def test_a_sum_every_row_picks_is_the_column_itself() -> None:
    picked = _picker([(0, "sum_1"), (1, "sum_1"), (2, "sum_1")], rows=3)
    assert picked.sql() == '"sum_1"'


def test_different_sums_are_picked_by_row_index() -> None:
    picked = _picker([(0, "sum_0"), (1, "sum_2")], rows=2)
    assert isinstance(picked, exp.Case)
    assert picked.sql() == 'CASE "row_index" WHEN 0 THEN "sum_0" WHEN 1 THEN "sum_2" END'


def test_one_sum_on_some_rows_only_leaves_the_others_null() -> None:
    # CUPED's covariate sums: only the adjusted rows have one; the CASE gives NULL to the rest.
    picked = _picker([(1, "sum_4")], rows=3)
    assert picked.sql() == 'CASE "row_index" WHEN 1 THEN "sum_4" END'
