"""``expsql compile`` of an experiment longer than the warehouse's query-length limit; a misspelt key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sqlglot

from expsql.dialects import get
from expsql.dialects.registry import RegisteredDialect, default_registry
from tests.cli.conftest import EXAMPLE, Invoke, write_experiment


def test_compile_prints_one_query_within_the_limit(invoke: Invoke) -> None:
    outcome = invoke("compile", EXAMPLE, "--rows", "metrics", "--dialect", "bigquery")
    assert outcome.code == 0 and outcome.err == ""
    assert len(sqlglot.parse(outcome.out, read="bigquery")) == 1


def test_compile_prints_the_statements_a_limit_forces(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = write_experiment(tmp_path)
    whole = invoke("compile", experiment, "--rows", "metrics").out
    small = replace(get("duckdb"), max_query_bytes=len(whole.encode()) * 3 // 4)
    monkeypatch.setitem(default_registry().entries, "duckdb", RegisteredDialect(small, "built-in"))
    outcome = invoke("compile", experiment, "--rows", "metrics")
    assert outcome.code == 0
    assert outcome.err.startswith("-- 2 statements: the query is longer than duckdb takes")
    statements = sqlglot.parse(outcome.out, read="duckdb")
    assert len(statements) == 2
    assert all(statement.sql("duckdb").count('FROM "events"') == 1 for statement in statements if statement)


def test_compile_refuses_a_misspelt_key_naming_the_key_it_missed(invoke: Invoke, tmp_path: Path) -> None:
    # It compiled (exit 0) and ran as ``exclude``, the default, before.
    experiment = write_experiment(tmp_path, multple_exposures="first")
    outcome = invoke("compile", experiment)
    assert outcome.code == 2 and outcome.out == ""
    assert outcome.err.startswith(
        f"error: {experiment}: (top level): unknown experiment key 'multple_exposures' "
        "(did you mean 'multiple_exposures'?)"
    )
    assert "Traceback" not in outcome.err
