"""A refresh killed at each of its steps (SIGKILL, in a subprocess) on DuckDB and PostgreSQL: the
next refresh returns rows exactly equal to the full query, and leaves only its own version's tables.

And one refresh of an experiment at a time: a second one, while the first holds the lock, refuses
with a message that says so.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from expsql.dialects import Dao, get
from expsql.dialects.duckdb import DuckDBDao
from expsql.incremental import RefreshBusy, StateOptions, refresh
from expsql.incremental.state import StateTables
from expsql.testing import load
from tests.incremental.faults import EXPERIMENT, SIMULATION, SOURCE, source_for
from tests.incremental.simulation import MOMENTS, assert_same_rows, full_rows

pytestmark = pytest.mark.filterwarnings("ignore::expsql.stats.metric_table.DegenerateInputWarning")

STEPS = ["lock", "record", "clean", "write exposures", "write events_0", "query", "commit", "drop"]
SCRIPT = Path(__file__).with_name("killed_refresh.py")
BEFORE, KILLED, AFTER = MOMENTS[3], MOMENTS[5], MOMENTS[6]


def _killed(dialect: str, target: str, schema: str, moment: dt.datetime, step: str) -> None:
    root = str(Path(__file__).resolve().parents[2])
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), dialect, target, schema, moment.isoformat(), step],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def _state_tables(dao: Dao, schema: str) -> set[str]:
    frame = dao.execute(
        "SELECT table_name FROM information_schema.tables "
        f"WHERE table_schema = '{schema}' AND table_name LIKE 'expsql_state_%'"
    )
    return set(frame["table_name"])


def _walk_after_kill(dao: Any, load_as_of: Any, dialect: str, target: str, schema: str, step: str) -> None:
    source = source_for(SOURCE, dialect)
    state = StateOptions(schema)
    load_as_of(BEFORE)
    refresh(EXPERIMENT, dao(), dialect=dialect, state=state, source=source, as_of=BEFORE)
    load_as_of(KILLED)
    _killed(dialect, target, schema, KILLED, step)
    for moment in (KILLED, AFTER):  # the same refresh again, then the next day's
        load_as_of(moment)
        done = refresh(EXPERIMENT, dao(), dialect=dialect, state=state, source=source, as_of=moment)
        assert_same_rows(
            done.run.frame, full_rows(EXPERIMENT, dao(), dialect, source, "metrics"), f"{step}, {moment}"
        )
    assert done.record is not None
    tables = StateTables(schema, EXPERIMENT.id)
    current = {
        name.split(".")[1]
        for part in ("exposures", "events_0")
        for name in done.record.tiers.tables(tables, part)
    }
    assert _state_tables(dao(), schema) == current  # no half-written or stale version, no lock


@pytest.mark.parametrize("step", STEPS)
def test_duckdb_a_killed_refresh_loses_and_doubles_nothing(step: str, tmp_path: Path) -> None:
    path = str(tmp_path / "warehouse.duckdb")

    def load_as_of(moment: dt.datetime) -> None:
        with duckdb.connect(path) as connection:
            for name, frame in SIMULATION.as_of(moment).items():
                load.to_duckdb(connection, frame, table=name)

    opened: list[Dao] = []

    def dao() -> Dao:  # a fresh connection each time: the killed process needs the file unlocked
        for previous in opened:
            previous.close()
        opened[:] = [get("duckdb").connect(path)]
        return opened[0]

    try:
        _walk_after_kill(dao, load_as_of, "duckdb", path, "state", step)
    finally:
        for previous in opened:
            previous.close()


@pytest.mark.engine("postgres")
@pytest.mark.parametrize("step", STEPS)
def test_postgres_a_killed_refresh_loses_and_doubles_nothing(
    step: str, postgres_server: Any, postgres_connection: Any
) -> None:
    schema = f"faults_{STEPS.index(step)}"

    def load_as_of(moment: dt.datetime) -> None:
        for name, frame in SIMULATION.as_of(moment).items():
            load.to_postgres(postgres_connection, frame, table=f"faults_{name}")

    def dao() -> Dao:
        return get("postgres").connect(connection=postgres_connection)

    _walk_after_kill(dao, load_as_of, "postgres", postgres_server.dsn, schema, step)


def _second_refresh_while_the_first_holds_the_lock(
    first: Dao, second: Dao, dialect: str, source: Any
) -> None:
    state = StateOptions("busy")
    inside, release = threading.Event(), threading.Event()
    outcome: list[Any] = []

    def hold(name: str) -> None:
        if name == "query":
            inside.set()
            release.wait(60)

    def run_first() -> None:
        try:
            outcome.append(
                refresh(
                    EXPERIMENT, first, dialect=dialect, state=state, source=source, as_of=KILLED, on_step=hold
                )
            )
        except BaseException as error:  # pragma: no cover - reported below
            outcome.append(error)
            inside.set()

    thread = threading.Thread(target=run_first)
    thread.start()
    assert inside.wait(120)
    try:
        with pytest.raises(RefreshBusy, match=r"another refresh of experiment 'exp-1' is running"):
            refresh(
                EXPERIMENT, second, dialect=dialect, state=state, source=source, as_of=KILLED, close=False
            )
    finally:
        release.set()
        thread.join(120)
    assert not isinstance(outcome[0], BaseException), outcome[0]
    expected = full_rows(EXPERIMENT, second, dialect, source, "metrics")
    assert_same_rows(outcome[0].run.frame, expected)
    again = refresh(
        EXPERIMENT, second, dialect=dialect, state=state, source=source, as_of=KILLED, close=False
    )
    assert again.incremental  # the lock was released


def test_duckdb_two_refreshes_at_once(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        for name, frame in SIMULATION.as_of(KILLED).items():
            load.to_duckdb(connection, frame, table=name)
        first, second = DuckDBDao(connection.cursor()), DuckDBDao(connection.cursor())
        _second_refresh_while_the_first_holds_the_lock(first, second, "duckdb", SOURCE)


@pytest.mark.engine("postgres")
def test_postgres_two_refreshes_at_once(postgres_server: Any, postgres_connection: Any) -> None:
    import psycopg

    for name, frame in SIMULATION.as_of(KILLED).items():
        load.to_postgres(postgres_connection, frame, table=f"faults_{name}")
    with (
        psycopg.connect(postgres_server.dsn, autocommit=True) as one,
        psycopg.connect(postgres_server.dsn, autocommit=True) as two,
    ):
        first = get("postgres").connect(connection=one)
        second = get("postgres").connect(connection=two)
        _second_refresh_while_the_first_holds_the_lock(
            first, second, "postgres", source_for(SOURCE, "postgres")
        )


def test_the_lock_table_of_a_killed_holder_is_taken_over(tmp_path: Path) -> None:
    """A lock table naming a process of this host that is gone (as a SIGKILL leaves it)."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        for name, frame in SIMULATION.as_of(KILLED).items():
            load.to_duckdb(connection, frame, table=name)
        tables = StateTables("stale", EXPERIMENT.id)
        connection.execute("CREATE SCHEMA stale")
        lock = f"stale.expsql_state_{tables.key}_lock"
        import socket

        connection.execute(
            f"CREATE TABLE {lock} AS SELECT ? AS host, ? AS pid, now() AS since",
            [socket.gethostname(), int(gone.stdout)],
        )
        done = refresh(
            EXPERIMENT, DuckDBDao(connection, owned=False), dialect="duckdb", state=StateOptions("stale"),
            source=SOURCE, as_of=KILLED,
        )  # fmt: skip
        assert_same_rows(
            done.run.frame,
            full_rows(EXPERIMENT, DuckDBDao(connection, owned=False), "duckdb", SOURCE, "metrics"),
        )
        connection.execute(
            f"CREATE TABLE {lock} AS SELECT ? AS host, ? AS pid, now() AS since", ["elsewhere", 1]
        )
        with pytest.raises(RefreshBusy, match="process 1 on elsewhere"):
            refresh(
                EXPERIMENT, DuckDBDao(connection, owned=False), dialect="duckdb", state=StateOptions("stale"),
                source=SOURCE, as_of=KILLED,
            )  # fmt: skip
