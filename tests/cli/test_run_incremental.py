"""``expsql run --incremental``: the state in the warehouse, refreshed day by day, and the same
scorecard as a plain run; the state's schema from the command line or ``[state]``; clear refusals."""

from __future__ import annotations

import io
import shutil
import threading
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.cli.conftest import EXAMPLE, Invoke, write_experiment

ROOT = Path(__file__).resolve().parents[2]
EXPOSURES_SOURCE = ROOT / "examples" / "exposures-source.yaml"
#: The scorecard's columns that are counts: equal exactly; the rest are floating sums and their statistics.
EXACT = ["exp_id", "metric_id", "metric_name", "exp_variant_id", "count"]


@pytest.fixture(scope="module")
def exposures_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's exposure log and raw events (the exposures layout), few units."""
    from expsql.demo import write_demo_database

    path = tmp_path_factory.mktemp("incremental") / "exposures.duckdb"
    return write_demo_database(path, units=3_000, layout="exposures")


def warehouse(database: Path, tmp_path: Path) -> Path:
    """A copy of ``database`` the test may write its state into."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(database, copy)
    return copy


def scorecard(csv: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(csv)).sort_values(["metric_id", "exp_variant_id"], ignore_index=True)


def assert_same_scorecard(refreshed: str, plain: str) -> None:
    """The same rows: counts exactly, sums and their statistics up to the last bits of a float."""
    left, right = scorecard(refreshed), scorecard(plain)
    assert list(left.columns) == list(right.columns)
    pd.testing.assert_frame_equal(left[EXACT], right[EXACT])
    numbers = [c for c in left.columns if c not in EXACT and pd.api.types.is_float_dtype(left[c])]
    assert numbers
    np.testing.assert_allclose(left[numbers], right[numbers], rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("layout", ["attributed", "exposures"])
def test_the_second_day_refreshes_incrementally_and_equals_a_plain_run(
    invoke: Invoke, demo_database: Path, exposures_database: Path, tmp_path: Path, layout: str
) -> None:
    source = ["--source", EXPOSURES_SOURCE] if layout == "exposures" else []
    database = warehouse(demo_database if layout == "attributed" else exposures_database, tmp_path)
    common = ["run", EXAMPLE, "--dialect", "duckdb", "--connect", database, "--format", "csv", *source]
    incremental = [*common, "--incremental", "--state-schema", "expsql_state"]

    first = invoke(*incremental, "--as-of", "2026-11-10T06:00")
    assert first.code == 0, first.err
    assert "full refresh (no state yet): state version 1, settled until 2026-11-08" in first.err
    second = invoke(*incremental, "--as-of", "2026-11-11T06:00")
    assert second.code == 0, second.err
    assert "incremental refresh: state version 2, settled until 2026-11-09" in second.err
    assert "running the metrics-rows query" in second.err and "query took" in second.err

    plain = invoke(*common)
    assert plain.code == 0, plain.err
    assert "state version" not in plain.err
    assert_same_scorecard(second.out, plain.out)
    assert_same_scorecard(first.out, plain.out)
    with duckdb.connect(str(database), read_only=True) as connection:
        versions = connection.execute("SELECT state_version FROM expsql_state.expsql_state").fetchall()
    assert sorted(versions) == [(1,), (2,)]


def test_the_experiment_file_and_the_config_ask_for_it(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    database = warehouse(demo_database, tmp_path)
    experiment = write_experiment(tmp_path, incremental=True)
    config = tmp_path / "expsql.toml"
    config.write_text(
        f'[run]\ndialect = "duckdb"\nconnect = "{database}"\n\n'
        '[state]\nschema = "kept"\nlate_arrival_hours = 24\n'
    )
    first = invoke("run", experiment, "--config", config, "--as-of", "2026-11-10")
    assert first.code == 0, first.err
    assert "settled until 2026-11-09 00:00:00" in first.err  # a 24-hour margin
    second = invoke("run", experiment, "--config", config, "--as-of", "2026-11-11")
    assert second.code == 0, second.err
    assert "incremental refresh: state version 2, settled until 2026-11-10" in second.err

    plain = invoke("run", experiment, "--config", config, "--no-incremental")
    assert plain.code == 0, plain.err
    assert "state version" not in plain.err


def test_full_refresh_rebuilds_the_state_and_says_so(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    database = warehouse(demo_database, tmp_path)
    command = ["run", EXAMPLE, "--dialect", "duckdb", "--connect", database, "--incremental"]
    command += ["--state-schema", "expsql_state", "--as-of", "2026-11-10"]
    assert invoke(*command).code == 0
    rebuilt = invoke(*command, "--full-refresh")
    assert rebuilt.code == 0, rebuilt.err
    assert "full refresh (--full-refresh): state version 2" in rebuilt.err


def test_a_definition_change_rebuilds_the_state_and_says_so(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    database = warehouse(demo_database, tmp_path)
    command = ["--dialect", "duckdb", "--connect", database, "--incremental", "--state-schema", "kept"]
    assert invoke("run", EXAMPLE, *command, "--as-of", "2026-11-10").code == 0
    changed = write_experiment(tmp_path, date_to="2026-11-14")
    rebuilt = invoke("run", changed, *command, "--as-of", "2026-11-11")
    assert rebuilt.code == 0, rebuilt.err
    assert "full refresh (the experiment's definition or source changed" in rebuilt.err


def test_write_results_writes_the_refreshed_evaluation(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    database = warehouse(demo_database, tmp_path)
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA experiments")
    ran = invoke(
        "run",
        EXAMPLE,
        "--dialect",
        "duckdb",
        "--connect",
        database,
        "--incremental",
        "--state-schema",
        "expsql_state",
        "--write-results",
        "experiments",
    )
    assert ran.code == 0, ran.err
    assert "full refresh (no state yet)" in ran.err and "wrote run " in ran.err
    with duckdb.connect(str(database), read_only=True) as connection:
        (runs,) = connection.execute("SELECT count(*) FROM experiments.expsql_runs").fetchone()  # type: ignore[misc]
    assert runs == 1


def test_without_a_state_schema_incremental_is_refused_before_connecting(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "missing.duckdb"
    for experiment, flags in (
        (EXAMPLE, ["--incremental"]),
        (write_experiment(tmp_path, incremental=True), []),
    ):
        outcome = invoke("run", experiment, "--dialect", "duckdb", "--connect", database, *flags)
        assert outcome.code == 2 and outcome.out == ""
        assert (
            "error: an incremental refresh keeps its state in the warehouse: say where with --state-schema"
            in (outcome.err)
        )
        assert "[state]" in outcome.err and "Traceback" not in outcome.err
    assert not database.exists()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--full-refresh"], "--full-refresh applies"),
        (["--as-of", "2026-11-10", "--state-schema", "s"], "--state-schema, --as-of apply"),
        (["--late-arrival-hours", "2"], "--late-arrival-hours applies"),
    ],
)
def test_incremental_options_without_incremental_are_refused(
    invoke: Invoke, tmp_path: Path, flags: list[str], named: str
) -> None:
    outcome = invoke("run", EXAMPLE, "--dialect", "duckdb", "--connect", tmp_path / "x.duckdb", *flags)
    assert outcome.code == 2
    assert f"error: {named} to an incremental refresh only: add --incremental" in outcome.err
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--state-schema", "s", "--as-of", "yesterday"], "--as-of 'yesterday': give an ISO timestamp"),
        (["--state-schema", "a.b.c"], "state schema 'a.b.c' must be 'schema' or 'catalog.schema'"),
    ],
)
def test_bad_incremental_options_are_refused_cleanly(
    invoke: Invoke, tmp_path: Path, flags: list[str], message: str
) -> None:
    outcome = invoke(
        "run", EXAMPLE, "--dialect", "duckdb", "--connect", tmp_path / "x.duckdb", "--incremental", *flags
    )
    assert outcome.code == 2 and message in outcome.err and "Traceback" not in outcome.err
    assert not (tmp_path / "x.duckdb").exists()


def test_as_of_with_an_offset_is_read_as_utc() -> None:
    import datetime as dt

    from expsql.cli.state import parse_as_of

    assert parse_as_of("2026-11-10T06:00+02:00") == dt.datetime(2026, 11, 10, 4)
    assert parse_as_of("2026-11-10") == dt.datetime(2026, 11, 10)


def test_a_second_refresh_at_once_refuses_clearly(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    """A refresh paused inside its lock (the library's, in a thread); the command's refuses."""
    from expsql import runner
    from expsql.incremental import StateOptions, refresh
    from expsql.models import load_experiment

    database = warehouse(demo_database, tmp_path)
    holding, release = threading.Event(), threading.Event()

    def pause(step: str) -> None:
        if step == "record":
            holding.set()
            release.wait(timeout=60)

    dao = runner.connect("duckdb", str(database))
    options = StateOptions("expsql_state")
    worker = threading.Thread(
        target=refresh,
        args=(load_experiment(EXAMPLE), dao),
        kwargs={"dialect": "duckdb", "state": options, "on_step": pause},
    )
    worker.start()
    try:
        assert holding.wait(timeout=60)
        busy = invoke(
            "run",
            EXAMPLE,
            "--dialect",
            "duckdb",
            "--connect",
            database,
            "--incremental",
            "--state-schema",
            "expsql_state",
        )
    finally:
        release.set()
        worker.join(timeout=60)
    assert busy.code == 2 and busy.out == ""
    assert "error: another refresh of experiment 'checkout-redesign' is running" in busy.err
    assert "Traceback" not in busy.err
    after = invoke(
        "run",
        EXAMPLE,
        "--dialect",
        "duckdb",
        "--connect",
        database,
        "--incremental",
        "--state-schema",
        "expsql_state",
    )
    assert after.code == 0, after.err
    assert "incremental refresh: state version 2" in after.err


def test_an_event_quantile_runs_in_full_and_says_why(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    import yaml

    database = warehouse(demo_database, tmp_path)
    data = yaml.safe_load(EXAMPLE.read_text())
    quantile = {
        "id": 9,
        "name": "order value",
        "nominator": "value(user.unit.conversion)",
        "quantile": 0.9,
        "quantile_of": "event",
    }
    experiment = write_experiment(tmp_path, metrics=[*data["metrics"], quantile])
    outcome = invoke(
        "run",
        experiment,
        "--dialect",
        "duckdb",
        "--connect",
        database,
        "--incremental",
        "--state-schema",
        "expsql_state",
    )
    assert outcome.code == 0, outcome.err
    assert "full run: metric 9 is a quantile of events" in outcome.err


@pytest.mark.engine("postgres")
def test_the_second_day_refreshes_incrementally_on_postgresql(
    invoke: Invoke, postgres_server: Any, tmp_path: Path
) -> None:
    import psycopg

    from expsql.demo import generate_events
    from expsql.testing.load import to_postgres

    with psycopg.connect(postgres_server.dsn, autocommit=True) as connection:
        to_postgres(connection, generate_events(units=3_000, seed=11), table="incremental_events")
    source = tmp_path / "source.yaml"
    source.write_text("table: incremental_events\n")
    common = ["run", EXAMPLE, "--dialect", "postgres", "--connect", postgres_server.dsn, "--source", source]
    common += ["--format", "csv"]
    incremental = [*common, "--incremental", "--state-schema", "cli_state"]
    assert invoke(*incremental, "--as-of", "2026-11-10T06:00").code == 0
    second = invoke(*incremental, "--as-of", "2026-11-11T06:00")
    assert second.code == 0, second.err
    assert "incremental refresh: state version 2, settled until 2026-11-09" in second.err
    plain = invoke(*common)
    assert plain.code == 0, plain.err
    assert_same_scorecard(second.out, plain.out)


@pytest.mark.engine("postgres")
def test_a_user_with_rights_on_the_state_schema_only_can_refresh_on_postgresql(
    invoke: Invoke, postgres_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grant docs/incremental.md gives: the writer owns the state schema, reads the source."""
    import psycopg

    from expsql.demo import generate_events
    from expsql.testing.load import to_postgres

    with psycopg.connect(postgres_server.dsn, autocommit=True) as connection:
        to_postgres(connection, generate_events(units=1_000, seed=12), table="granted_events")
        connection.execute("DROP SCHEMA IF EXISTS granted_state CASCADE")
        connection.execute("DROP ROLE IF EXISTS expsql_writer")
        connection.execute("CREATE ROLE expsql_writer LOGIN PASSWORD 'writer'")
        connection.execute("CREATE SCHEMA granted_state AUTHORIZATION expsql_writer")
        connection.execute("GRANT SELECT ON granted_events TO expsql_writer")
    source = tmp_path / "source.yaml"
    source.write_text("table: granted_events\n")
    dsn = postgres_server.dsn.replace("user=postgres", "user=expsql_writer")
    assert "expsql_writer" in dsn
    config = tmp_path / "expsql.toml"
    config.write_text('[connectors.postgres]\npassword_env = "EXPSQL_TEST_WRITER_PASSWORD"\n')
    monkeypatch.setenv("EXPSQL_TEST_WRITER_PASSWORD", "writer")
    outcome = invoke(
        "run",
        EXAMPLE,
        "--dialect",
        "postgres",
        "--connect",
        dsn,
        "--source",
        source,
        "--config",
        config,
        "--incremental",
        "--state-schema",
        "granted_state",
    )
    assert outcome.code == 0, outcome.err
    assert "full refresh (no state yet)" in outcome.err


def test_a_dialect_that_cannot_keep_a_state_is_refused_before_connecting(invoke: Invoke) -> None:
    outcome = invoke(
        "run",
        EXAMPLE,
        "--dialect",
        "trino",
        "--connect",
        "http://trino.invalid",
        "--incremental",
        "--state-schema",
        "expsql_state",
    )
    assert outcome.code == 2 and outcome.out == ""
    assert "error: trino cannot keep an incremental state" in outcome.err
    assert "run without --incremental" in outcome.err and "Traceback" not in outcome.err
    assert "running the" not in outcome.err
