"""The kit's results check (expsql.testing.results_check) fails where a dialect writes results
wrong: a loader that ignores ``nan_as_null=False`` (the kit's own loads' typing), a loader that cuts text at
ASCII is caught at the non-ASCII metric name; a dialect without ``publish`` is ``unsupported``; the
check leaves no table behind."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from expsql.dialects import get
from expsql.dialects.duckdb import DuckDBDao
from expsql.results_staging import table_names
from expsql.testing import Target
from expsql.testing.results_check import NON_ASCII_NAME, check_results


class NanAsNull(DuckDBDao):
    """A loader that ignores ``nan_as_null=False``: NaN would land as NULL, integers as text."""

    def load_table(self, frame: pd.DataFrame, table: str, *, nan_as_null: bool = True) -> None:
        super().load_table(frame, table)


class AsciiOnly(DuckDBDao):
    """A loader that drops the non-ASCII characters of text."""

    def load_table(self, frame: pd.DataFrame, table: str, *, nan_as_null: bool = True) -> None:
        frame = frame.copy()
        for name in frame.columns:
            if frame[name].dtype == object:
                frame[name] = frame[name].map(
                    lambda v: v.encode("ascii", "ignore").decode() if isinstance(v, str) else v
                )
        super().load_table(frame, table, nan_as_null=nan_as_null)


def _dao(kind: Any) -> Any:
    import duckdb

    return kind(duckdb.connect())


def test_results_check_passes_on_duckdb_and_drops_its_tables() -> None:
    dao = _dao(DuckDBDao)
    result = check_results(Target("duckdb", dao))
    assert result.status == "pass", result.detail
    assert table_names(dao, get("duckdb"), "expsql_kit_results") == []


def test_results_check_catches_a_loader_ignoring_nan_as_null() -> None:
    result = check_results(Target("duckdb", _dao(NanAsNull)))
    assert result.status == "fail" and result.detail


def test_results_check_catches_non_ascii_lost() -> None:
    result = check_results(Target("duckdb", _dao(AsciiOnly)))
    assert result.status == "fail"
    assert NON_ASCII_NAME in result.detail


def test_results_check_says_unsupported_for_publish_none() -> None:
    result = check_results(Target(replace(get("duckdb"), publish="none"), _dao(DuckDBDao)))
    assert result.status == "unsupported"
