"""Metric rows split by a query-length limit: each statement fits and reads the events once, and
their rows together are the one query's rows, run on DuckDB and through :func:`expsql.runner.run`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pandas as pd
import pytest

from expsql.compiler import compile_sql, compile_statements
from expsql.contracts import EXPOSURE_ROW_ID
from expsql.dialects import get
from expsql.dialects.registry import RegisteredDialect, default_registry
from expsql.errors import DialectError
from expsql.models import Experiment
from expsql.runner import run, script
from expsql.testing.reference import assert_rows_equal
from tests.compiler.test_duckdb_execution import SOURCE

DUCKDB = get("duckdb")


def experiment(metrics: int, **fields: Any) -> Experiment:
    """``metrics`` metrics over dimension terms and a check, so every statement has its own terms."""
    products = ("p_1", "p_2", "p_10", "pa1")
    definition: dict[str, Any] = {
        "id": "exp-1",
        "control_variant": "a",
        "unit_type": "user",
        "metrics": [
            {
                "id": i,
                "name": f"metric {i}",
                "nominator": f"value(user.unit.conversion(product={products[i % 4]}, price>{i % 7}))",
                "denominator": "count(user.global.exposure)" if i % 2 else "unique(user.unit.view)",
            }
            for i in range(1, metrics + 1)
        ],
        "checks": [{"id": 1, "name": "SRM", "denominator": "count(user.global.exposure)"}],
        **fields,
    }
    return Experiment.model_validate(definition)


def limited(limit: int) -> Any:
    return replace(DUCKDB, max_query_bytes=limit)


def test_a_query_within_the_limit_is_one_statement() -> None:
    definition = experiment(12)
    one = compile_sql(definition, DUCKDB, "metrics", SOURCE)
    assert compile_statements(definition, limited(len(one.encode())), "metrics", SOURCE) == [one]
    assert compile_statements(definition, DUCKDB, "metrics", SOURCE) == [one]  # no limit declared


def test_a_longer_query_becomes_the_fewest_statements_that_fit(database: duckdb.DuckDBPyConnection) -> None:
    definition = experiment(24)
    one = compile_sql(definition, DUCKDB, "metrics", SOURCE)
    limit = len(one.encode()) // 3
    statements = compile_statements(definition, limited(limit), "metrics", SOURCE)
    assert len(statements) >= 3
    assert all(len(statement.encode()) <= limit for statement in statements)
    assert all(statement.count('FROM "events"') == 1 for statement in statements)
    parts = [database.execute(statement).df() for statement in statements]
    ids = [set(part["metric_id"]) for part in parts]
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1 :]), "each metric in one statement"
    assert {EXPOSURE_ROW_ID, "@check:1"} <= ids[0]
    assert not any(i.startswith("@") for later in ids[1:] for i in later)
    assert_rows_equal(pd.concat(parts, ignore_index=True), database.execute(one).df())


def test_the_split_rows_evaluate_as_the_one_querys(
    database: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = experiment(16)
    one = compile_sql(definition, DUCKDB, "metrics", SOURCE)
    entries = default_registry().entries
    monkeypatch.setitem(entries, "duckdb", RegisteredDialect(limited(len(one.encode()) // 2), "built-in"))
    shown: list[str] = []
    result = run(
        definition,
        get("duckdb").connect(connection=database),
        dialect="duckdb",
        source=SOURCE,
        on_query=shown.append,
    )
    whole = run(definition, DUCKDB.connect(connection=database), dialect="duckdb", source=SOURCE, close=False)
    assert shown == [result.sql] and result.sql.count(";") >= 2
    assert result.sql == script(compile_statements(definition, get("duckdb"), "metrics", SOURCE))
    pd.testing.assert_frame_equal(result.evaluation.metrics, whole.evaluation.metrics)
    pd.testing.assert_frame_equal(result.evaluation.checks, whole.evaluation.checks)


def test_goal_rows_beyond_the_limit_are_refused_naming_metric_rows() -> None:
    with pytest.raises(
        DialectError, match=r"the goals query of 'exp-1' is [\d,]+ bytes and duckdb takes .*--rows metrics"
    ):
        compile_statements(experiment(6), limited(2_000), "goals", SOURCE)


def test_a_limit_one_metric_exceeds_is_refused() -> None:
    with pytest.raises(DialectError, match="the query of one metric of 'exp-1' alone is longer"):
        compile_statements(experiment(6), limited(2_000), "metrics", SOURCE)


@pytest.mark.parametrize("name", ["bigquery", "snowflake"])
def test_the_warehouses_with_a_text_limit_declare_it(name: str) -> None:
    assert get(name).max_query_bytes in (1_000_000, 1024 * 1024)
