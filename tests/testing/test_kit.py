"""The kit itself: its data holds the hostile cases, every feature has a case, and it fails where a
dialect is wrong: a deliberately wrong dialect is reported with its first differing row, a feature
declared unsupported must fail to compile with expsql's error, and the tables it wrote are dropped
even when a case raises."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from expsql.dialects import Dialect, get
from expsql.testing import CASES, FEATURES, Target, reference_tables, run_kit
from expsql.testing.compare import first_difference
from expsql.testing.data import HOSTILE_VALUES, LARGE_COUNT, TABLES, UNDERSCORE_DECOY, UNDERSCORE_GOAL
from expsql.testing.exposure_events import DATE_FROM


class UnescapedPrefix(DuckDB):
    """DuckDB whose "starts with" is an unescaped ``LIKE 'prefix%'``: ``^p_1`` also matches ``pa1``."""

    class Generator(DuckDB.Generator):
        def startswith_sql(self, expression: exp.StartsWith) -> str:
            pattern = exp.DPipe(this=expression.expression, expression=exp.Literal.string("%"))
            return self.sql(exp.Like(this=expression.this, expression=pattern))


WRONG = Dialect("wrongduckdb", UnescapedPrefix, connector=get("duckdb").connector, native_prefix_match=True)


def test_reference_data_holds_the_cases_that_break_warehouses() -> None:
    tables = reference_tables()
    attributed, exposures, events = tables["attributed"], tables["exposures"], tables["events"]
    assert set(HOSTILE_VALUES) <= set(attributed["product"].dropna())
    assert set(HOSTILE_VALUES) <= set(events["product"].dropna())
    assert set(HOSTILE_VALUES) <= set(exposures["country"].dropna())
    for goals in (attributed["goal"], events["event"]):
        assert {UNDERSCORE_GOAL, UNDERSCORE_DECOY} <= set(goals)
    assert attributed["cnt"].max() == LARGE_COUNT > 2**31
    for key in ("unit_id", "exp_id", "variant_id", "timestamp"):
        assert exposures[key].isna().any(), key
    assert events["unit_id"].isna().any() and events["timestamp"].isna().any()
    midnight = pd.Timestamp(DATE_FROM)
    assert (exposures["timestamp"] == midnight).any()  # exactly at the window's first instant
    first = exposures.dropna(subset=["unit_id", "timestamp"]).groupby("unit_id")["timestamp"].min()
    joined = events.dropna(subset=["unit_id"]).join(first.rename("t0"), on="unit_id")
    assert (joined["timestamp"] < joined["t0"]).any()  # events before the exposure
    assert (joined["timestamp"] == joined["t0"]).any()  # and exactly at it
    variants = exposures.dropna(subset=["unit_id", "variant_id"]).groupby(["exp_id", "unit_id"])["variant_id"]
    assert (variants.nunique() > 1).any()  # units exposed to two variants


def test_every_feature_has_a_case_and_every_case_a_feature() -> None:
    assert {case.feature for case in CASES.values()} == set(FEATURES)


def test_first_difference_shows_the_row_that_differs() -> None:
    expected = pd.DataFrame(
        {
            "exp_id": ["e", "e"],
            "exp_variant_id": ["a", "b"],
            "metric_id": ["1", "1"],
            "n": [3, 4],
            "sum_x": [1.0, 2.0],
        }
    )
    assert first_difference(expected.iloc[::-1].reset_index(drop=True), expected) is None
    wrong = expected.assign(sum_x=[1.0, 2.5])
    message = first_difference(wrong, expected)
    assert message is not None and message.startswith("sum_x is 2.5, expected 2.0")
    assert "'exp_variant_id': 'b'" in message
    missing = first_difference(expected.iloc[:1], expected)
    assert missing is not None and missing.startswith("1 expected rows missing") and "'b'" in missing


def test_a_wrong_dialect_fails_with_its_first_differing_row() -> None:
    dao = get("duckdb").connect()
    cases = [CASES["attributed: rows"], CASES["exposures: rows"], CASES["attributed: winsorized"]]
    report = run_kit(Target.of(WRONG, dao), cases)
    dao.close()
    failed = {(result.case, result.contract) for result in report.failures}
    assert ("attributed: rows", "goals") in failed and ("exposures: rows", "metrics") in failed
    assert not any(result.case == "attributed: winsorized" for result in report.failures)  # no prefix there
    first = report.failures[0]
    assert "expected" in first.detail and "returned {" in first.detail
    text = report.to_text()
    assert text.startswith("conformance of wrongduckdb: FAIL")
    assert f"FAIL {first.case} [{first.contract}]: {first.detail}" in text


def test_a_feature_declared_unsupported_must_fail_to_compile() -> None:
    dao = get("duckdb").connect()
    timeline = CASES["attributed: timeline"]
    report = run_kit(Target.of("duckdb", dao, unsupported=frozenset({"timeline"})), [timeline])
    (result,) = report.results
    assert result.status == "fail" and "compiled it without an error" in result.detail
    no_percentile = Dialect("nopercentile", "duckdb", connector=get("duckdb").connector, percentile="none")
    capped = CASES["attributed: winsorized"]
    report = run_kit(Target.of(no_percentile, dao), [capped])
    statuses = {result.contract: result.status for result in report.results}
    assert statuses == {"metrics": "unsupported", "units": "pass"}
    assert "no percentile function" in report.results[0].detail
    dao.close()


def test_the_tables_are_dropped_when_a_case_raises() -> None:
    dao = get("duckdb").connect()

    def tables() -> set[str]:
        return set(dao.execute("SELECT table_name FROM information_schema.tables")["table_name"])

    class Interrupting:
        def execute(self, sql: str) -> pd.DataFrame:
            assert set(TABLES.values()) <= tables()
            raise KeyboardInterrupt

        def close(self) -> None: ...

    target = Target("duckdb", Interrupting(), load=dao.load_table, drop=dao.drop_table)  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        run_kit(target, [CASES["attributed: rows"]])
    assert not set(TABLES.values()) & tables()
    dao.close()
