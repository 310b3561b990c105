"""``expsql run``: compile, run on a warehouse, evaluate, present; and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLE, Invoke, broken_experiment


def test_malformed_expression_prints_the_caret_and_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    outcome = invoke(
        "run", broken_experiment(tmp_path), "--dialect", "duckdb", "--connect", tmp_path / "x.duckdb"
    )
    assert outcome.code == 2
    assert outcome.err.startswith(
        "error: metric 2 nominator: unexpected end of expression at line 1, column 30"
    )
    assert "  value(user.unit.conversion) +\n" in outcome.err
    assert "\n" + " " * 31 + "^" in outcome.err
    assert "Traceback" not in outcome.err and outcome.out == ""
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize(
    "target",
    ["postgresql://expsql:hunter2@127.0.0.1/analytics", "host=127.0.0.1 password=hunter2 dbname=analytics"],
)
def test_a_password_on_the_command_line_is_refused(invoke: Invoke, target: str) -> None:
    outcome = invoke("run", EXAMPLE, "--dialect", "postgres", "--connect", target)
    assert outcome.code == 2
    assert "holds a password" in outcome.err and "hunter2" not in outcome.err
    assert "Traceback" not in outcome.err


def test_run_needs_a_dialect(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = invoke("run", EXAMPLE, "--connect", "demo.duckdb")
    assert outcome.code == 2 and "say which warehouse: --dialect" in outcome.err


def test_unknown_dialect_lists_the_available_ones(invoke: Invoke) -> None:
    outcome = invoke("run", EXAMPLE, "--dialect", "duckbd", "--connect", "x.duckdb")
    assert outcome.code == 2
    assert "unknown dialect 'duckbd'. Did you mean 'duckdb'?" in outcome.err and "postgres" in outcome.err


def test_missing_duckdb_file_is_reported_not_created(invoke: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    outcome = invoke("run", EXAMPLE, "--dialect", "duckdb", "--connect", missing)
    assert outcome.code == 2
    assert "cannot connect to duckdb" in outcome.err and "database does not exist" in outcome.err
    assert not missing.exists()


def test_missing_secret_variable_is_named(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPSQL_TEST_UNSET_PASSWORD", raising=False)
    config = tmp_path / "expsql.toml"
    config.write_text('[connectors.postgres]\npassword_env = "EXPSQL_TEST_UNSET_PASSWORD"\n')
    outcome = invoke(
        "run", EXAMPLE, "--dialect", "postgres", "--connect", "host=127.0.0.1", "--config", config
    )
    assert outcome.code == 2
    assert "password_env names $EXPSQL_TEST_UNSET_PASSWORD, which is not set" in outcome.err
