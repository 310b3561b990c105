"""``expsql run``: compile, run on a warehouse, evaluate, present; and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import EXAMPLE, Invoke, broken_experiment, write_experiment


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


def test_run_refuses_a_misspelt_metric_key_before_connecting(invoke: Invoke, tmp_path: Path) -> None:
    experiment = write_experiment(tmp_path)
    data = yaml.safe_load(experiment.read_text())
    data["metrics"][0]["minimum_efect"] = data["metrics"][0].pop("minimum_effect")
    experiment.write_text(yaml.safe_dump(data))
    outcome = invoke("run", experiment, "--dialect", "duckdb", "--connect", tmp_path / "x.duckdb")
    assert outcome.code == 2 and outcome.out == ""
    assert "metrics.0: unknown metric key 'minimum_efect' (did you mean 'minimum_effect'?)" in outcome.err
    assert "Traceback" not in outcome.err
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


def test_run_on_the_demo_database_prints_the_scorecard(invoke: Invoke, demo_database: Path) -> None:
    outcome = invoke("run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database)
    assert outcome.code == 0, outcome.err
    assert "running the metrics-rows query (" in outcome.err and "lines of duckdb SQL)" in outcome.err
    assert re.search(r"query took \d+\.\d{3} s and returned 21 rows", outcome.err)  # 7 row ids × 3 variants
    lines = outcome.out.splitlines()
    assert lines[0].startswith("checkout-redesign  control a · unit user")
    assert max(len(line) for line in lines) <= 100
    for name in ("Conversion rate", "Buy-button click-through", "Sample ratio mismatch"):
        assert name in outcome.out
    assert re.search(r"(▲ significant|▼ significant|not significant)", outcome.out)


def test_run_writes_each_format(invoke: Invoke, demo_database: Path, tmp_path: Path) -> None:
    for name in ("report.html", "scores.json", "scores.csv"):
        output = tmp_path / name
        outcome = invoke(
            "run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "--output", output
        )
        assert outcome.code == 0, outcome.err
        assert f"wrote {output.suffix[1:]} to {output}" in outcome.err
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "<svg" in html
    assert "FROM &quot;events&quot;" in html  # the SQL that produced the rows, escaped
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["id"] == "checkout-redesign" and scores["run"]["dialect"] == "duckdb"
    csv = (tmp_path / "scores.csv").read_text().splitlines()
    assert csv[0].startswith("exp_id,metric_id,metric_name,exp_variant_id,")
    assert len(csv) == 1 + 5 * 3


def scorecard(invoke: Invoke, database: Path, rows: str) -> tuple[str, dict[tuple[str, str], dict]]:
    """``expsql run --rows ROWS -f json`` on the demo: the contract and each metric × variant row."""
    outcome = invoke(
        "run", EXAMPLE, "--dialect", "duckdb", "--connect", database, "--rows", rows, "-f", "json"
    )
    assert outcome.code == 0, outcome.err
    result = json.loads(outcome.out)
    return result["contract"], {(str(m["metric_id"]), m["exp_variant_id"]): m for m in result["metrics"]}


def test_goal_rows_and_metric_rows_agree_on_single_goal_means(invoke: Invoke, demo_database: Path) -> None:
    _, metric_rows = scorecard(invoke, demo_database, "metrics")
    _, goal_rows = scorecard(invoke, demo_database, "goals")
    # Conversion rate and revenue per user have one goal per side: both contracts give the same means.
    for key, expected in metric_rows.items():
        if key[0] in ("1", "2"):
            assert goal_rows[key]["mean"] == pytest.approx(expected["mean"], rel=1e-9)


def test_unit_rows_give_the_metric_rows_scorecard(invoke: Invoke, demo_database: Path) -> None:
    contract, unit_rows = scorecard(invoke, demo_database, "units")
    _, metric_rows = scorecard(invoke, demo_database, "metrics")
    assert contract == "unit rows" and unit_rows.keys() == metric_rows.keys()
    for key, expected in metric_rows.items():
        for column in ("mean", "std", "p_value"):
            assert unit_rows[key][column] == pytest.approx(expected[column], rel=1e-9, nan_ok=True)


def test_show_sql_prints_the_query(invoke: Invoke, demo_database: Path) -> None:
    outcome = invoke("run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "--show-sql")
    assert outcome.code == 0 and 'FROM "events"' in outcome.err


def test_config_supplies_dialect_target_and_source(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    (tmp_path / "source.yaml").write_text("table: events\n")
    config = tmp_path / "expsql.toml"
    config.write_text(
        f'[run]\ndialect = "duckdb"\nconnect = "{demo_database}"\nrows = "goals"\nsource = "source.yaml"\n'
    )
    outcome = invoke("run", EXAMPLE, "--config", config)
    assert outcome.code == 0, outcome.err
    assert "running the goals-rows query" in outcome.err


@pytest.mark.engine("postgres")
def test_run_on_postgresql_prints_the_scorecard(invoke: Invoke, postgres_server, tmp_path: Path) -> None:
    import psycopg

    from expsql.demo import generate_events
    from expsql.testing.load import to_postgres

    with psycopg.connect(postgres_server.dsn, autocommit=True) as connection:
        to_postgres(connection, generate_events(units=3_000, seed=7), table="cli_demo_events")
    source = tmp_path / "source.yaml"
    source.write_text("table: cli_demo_events\n")
    outcome = invoke(
        "run", EXAMPLE, "--dialect", "postgres", "--connect", postgres_server.dsn, "--source", source
    )
    assert outcome.code == 0, outcome.err
    assert "lines of postgres SQL) on postgres host=127.0.0.1" in outcome.err
    assert "Conversion rate" in outcome.out and "Sample ratio mismatch" in outcome.out


def test_run_with_a_timeline_prints_a_table_per_metric(invoke: Invoke, demo_database: Path) -> None:
    outcome = invoke("run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "--timeline")
    assert outcome.code == 0, outcome.err
    assert outcome.out.count("Timeline: ") == 5  # one per metric
    assert "2026-11-02" in outcome.out and "2026-11-15" in outcome.out
    assert re.search(r"2026-11-15\s+96\.45%", outcome.out)  # the last look's level


def test_run_with_a_timeline_writes_it_in_json(invoke: Invoke, demo_database: Path, tmp_path: Path) -> None:
    output = tmp_path / "result.json"
    outcome = invoke(
        "run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "--timeline", "--output", output
    )
    assert outcome.code == 0, outcome.err
    timeline = json.loads(output.read_text())["timeline"]
    assert len({point["day"] for point in timeline}) == 14


def test_a_timeline_without_a_date_window_exits_2_before_connecting(invoke: Invoke, tmp_path: Path) -> None:
    undated = write_experiment(tmp_path, date_from=None, date_to=None)
    missing = tmp_path / "never.duckdb"
    outcome = invoke("run", undated, "--dialect", "duckdb", "--connect", missing, "--timeline")
    assert outcome.code == 2
    assert outcome.err.startswith("error: timeline: daily needs the experiment's date window")
    assert "Traceback" not in outcome.err and not missing.exists()
