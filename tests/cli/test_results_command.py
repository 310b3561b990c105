"""``expsql run --write-results`` and ``expsql results``: the scorecard read back from the tables
prints as the run printed it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.conftest import EXAMPLE, Invoke


def test_run_writes_results_and_results_prints_the_same_scorecard(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_database, database)
    import duckdb

    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA experiments")
    ran = invoke(
        "run",
        EXAMPLE,
        "--dialect",
        "duckdb",
        "--connect",
        database,
        "--format",
        "json",
        "--write-results",
        "experiments",
    )
    assert ran.code == 0, ran.err
    run_id = ran.err.split("wrote run ")[1].split()[0]
    listed = invoke("results", "--dialect", "duckdb", "--connect", database, "--schema", "experiments")
    assert listed.code == 0, listed.err
    assert run_id in listed.out
    shown = invoke(
        "results",
        run_id,
        "--dialect",
        "duckdb",
        "--connect",
        database,
        "--schema",
        "experiments",
        "--format",
        "json",
    )
    assert shown.code == 0, shown.err
    original, read_back = json.loads(ran.out), json.loads(shown.out)
    for key in ("exposures", "metrics", "checks"):
        assert read_back[key] == original[key]


def test_the_config_names_the_results_schema(invoke: Invoke, demo_database: Path, tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_database, database)
    import duckdb

    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA experiments")
    config = tmp_path / "expsql.toml"
    config.write_text(
        f'[run]\ndialect = "duckdb"\nconnect = "{database}"\n\n[results]\nschema = "experiments"\n'
    )
    assert invoke("run", EXAMPLE, "--config", config).code == 0
    table = invoke("results", "--config", config)
    assert table.code == 0, table.err
    assert "runs in experiments" in table.out
