"""Results written back on DuckDB, PostgreSQL and Spark: every table reads back equal to its
Evaluation frame (NaN, ±inf, non-ASCII names); a process killed between staging and publishing, or
(a marker dialect) while publishing, leaves no visible run and the next write cleans up after it;
two runs of one experiment at once both land; two writers of one run id at once write it once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from expsql.demo import demo_experiment, write_demo_database
from expsql.dialects import Dao, get
from expsql.results import (
    PARTS,
    ResultsError,
    cleanup_results,
    list_runs,
    part_tables,
    read_evaluation,
    read_part,
    write_results,
)
from expsql.results_staging import table_names
from expsql.runner import connect, run
from expsql.stats.evaluation import Evaluation
from tests.test_results import assert_same, with_edge_values

pytestmark = pytest.mark.engine("results")

KILLED_WRITER = """
import dataclasses, pickle, sys, time
from expsql.dialects import get
from expsql.results import write_results
dialect, target, schema, run_id, path, when = sys.argv[1:]
evaluation = pickle.load(open(path, "rb"))
dao = get(dialect).connect(target)
chosen = get(dialect) if when == "staged" else dataclasses.replace(get(dialect), publish="marker")
def pause():
    if when == "staged":
        print("staged", flush=True)
        time.sleep(120)
original = dao.execute
def execute(sql):
    result = original(sql)
    if when == "publishing" and sql.startswith("INSERT") and "expsql_runs" not in sql.split("SELECT")[0]:
        print("published a part", flush=True)  # one table has the run's rows, the runs table not
        time.sleep(120)
    return result
dao.execute = execute
write_results(evaluation, dao, chosen, schema, run_id=run_id, pause=pause)
"""


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    path = write_demo_database(tmp_path_factory.mktemp("results") / "demo.duckdb", units=2_000)
    return with_edge_values(run(demo_experiment(), connect("duckdb", str(path)), dialect="duckdb").evaluation)


SESSIONS: dict[str, Any] = {}


@pytest.fixture(params=["duckdb", "postgres", "spark"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``(dialect, target, schema)``: a fresh results schema on the engine."""
    schema = f"results_{uuid.uuid4().hex[:8]}"
    if request.param == "duckdb":
        target = str(tmp_path / "results.duckdb")
    elif request.param == "postgres":
        target = request.getfixturevalue("postgres_server").dsn
    else:
        target = "session"
        SESSIONS["spark"] = request.getfixturevalue("spark_session")
    dao = _dao((request.param, target, schema))
    dao.execute(f"CREATE {'DATABASE' if request.param == 'spark' else 'SCHEMA'} {schema}")
    dao.close()
    yield request.param, target, schema


@pytest.fixture(params=["duckdb", "postgres", "spark"])
def shared_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``(dialect, target, schema)`` another process can write to as well: Spark through a Spark
    Connect server (a local session's catalog lives in its process)."""
    schema = f"results_{uuid.uuid4().hex[:8]}"
    if request.param == "duckdb":
        target = str(tmp_path / "results.duckdb")
    elif request.param == "postgres":
        target = request.getfixturevalue("postgres_server").dsn
    else:
        target = request.getfixturevalue("spark_connect_server").url
    dao = _dao((request.param, target, schema))
    dao.execute(f"CREATE SCHEMA {schema}")
    dao.close()
    yield request.param, target, schema


def _dao(engine: tuple[str, str, str]) -> Dao:
    if engine[0] == "spark" and engine[1] == "session":
        return get("spark").connect(session=SESSIONS["spark"])
    return get(engine[0]).connect(engine[1])


def _kill_while_writing(
    engine: tuple[str, str, str], evaluation: Evaluation, tmp_path: Path, run_id: str, when: str
) -> None:
    """Start a writer of ``run_id`` in another process and kill it ``when`` it has ``staged`` the
    run (nothing published yet) or is ``publishing`` as a marker dialect (some tables have it)."""
    name, target, schema = engine
    pickled = tmp_path / "evaluation.pickle"
    pickled.write_bytes(pickle.dumps(evaluation))
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, name, target, schema, run_id, str(pickled), when],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == ("staged" if when == "staged" else "published a part")
    finally:
        writer.kill()
        writer.wait()


def _count(dao: Dao, schema: str, part: str, run_id: str) -> int:
    rows = dao.execute(f"SELECT count(*) AS n FROM {schema}.expsql_{part} WHERE run_id = '{run_id}'")
    return int(rows["n"].iloc[0])


def _staging(dao: Dao, name: str, schema: str) -> list[str]:
    return [t for t in table_names(dao, get(name), schema) if t.startswith("expsql_stage_")]


@pytest.mark.parametrize("part", ["exposures", "metrics", "checks"])
def test_each_table_reads_back_equal(engine: tuple[str, str, str], evaluation: Evaluation, part: str) -> None:
    name, _, schema = engine
    dao = _dao(engine)
    run_id = write_results(evaluation, dao, get(name), schema)
    table = part_tables(evaluation)[part]
    assert_same(read_part(dao, get(name), schema, part, run_id, table.columns), table.to_pandas())
    dao.close()


def test_the_scorecard_reads_back_the_same(engine: tuple[str, str, str], evaluation: Evaluation) -> None:
    name, _, schema = engine
    dao = _dao(engine)
    run_id = write_results(evaluation, dao, get(name), schema)
    write_results(evaluation, dao, get(name), schema, run_id=run_id)  # idempotent
    assert list_runs(dao, get(name), schema)["run_id"].tolist() == [run_id]
    assert str(read_evaluation(dao, get(name), schema, run_id)) == str(evaluation)
    dao.close()


def test_a_run_killed_between_staging_and_publishing_is_invisible(
    shared_engine: tuple[str, str, str], evaluation: Evaluation, tmp_path: Path
) -> None:
    """Killed after staging: no visible run, only its staging tables, which the next write drops
    once stale; a retry lands whole."""
    name, _, schema = shared_engine
    dialect = get(name)
    dao = _dao(shared_engine)
    write_results(evaluation, dao, dialect, schema, run_id="before")  # the tables exist
    dao.close()
    _kill_while_writing(shared_engine, evaluation, tmp_path, "killed", "staged")
    dao = _dao(shared_engine)
    assert list_runs(dao, dialect, schema)["run_id"].tolist() == ["before"]
    for part in ("exposures", "metrics", "checks"):
        assert _count(dao, schema, part, "killed") == 0
    assert _staging(dao, name, schema)  # what the killed writer left
    write_results(evaluation, dao, dialect, schema, run_id="next")  # young staging: kept
    assert _staging(dao, name, schema)
    write_results(evaluation, dao, dialect, schema, run_id="killed", stale_after=dt.timedelta(0))
    assert _staging(dao, name, schema) == []
    assert sorted(list_runs(dao, dialect, schema)["run_id"]) == ["before", "killed", "next"]
    assert _count(dao, schema, "metrics", "killed") == len(evaluation.metric_table)
    assert str(read_evaluation(dao, dialect, schema, "killed")) == str(evaluation)
    dao.close()


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_a_marker_run_killed_while_publishing_is_invisible_and_cleaned_up(
    engine_name: str, request: pytest.FixtureRequest, evaluation: Evaluation, tmp_path: Path
) -> None:
    """A ``marker`` dialect killed after some tables got the run's rows: readers (``list_runs``, the
    latest views, ``read_part``, ``read_evaluation``) see nothing of it; the next write deletes its
    rows where the table can (DuckDB as a marker dialect), hides them where it cannot (Spark's
    parquet tables); a retry lands it whole, without duplicates."""
    schema = f"results_{uuid.uuid4().hex[:8]}"
    if engine_name == "duckdb":
        target = str(tmp_path / "results.duckdb")
    else:
        target = request.getfixturevalue("spark_connect_server").url
    engine = (engine_name, target, schema)
    dialect = dataclasses.replace(get(engine_name), publish="marker")
    dao = _dao(engine)
    dao.execute(f"CREATE SCHEMA {schema}")
    write_results(evaluation, dao, dialect, schema, run_id="before")
    dao.close()
    _kill_while_writing(engine, evaluation, tmp_path, "killed", "publishing")
    dao = _dao(engine)
    assert sum(_count(dao, schema, part, "killed") for part in PARTS[:3]) > 0  # in the raw tables
    assert list_runs(dao, dialect, schema)["run_id"].tolist() == ["before"]
    for part in ("exposures", "metrics", "checks"):
        latest = dao.execute(f"SELECT DISTINCT run_id FROM {schema}.expsql_latest_{part}")
        assert latest["run_id"].tolist() == ["before"]
        table = part_tables(evaluation)[part]
        assert read_part(dao, dialect, schema, part, "killed", table.columns).empty
    with pytest.raises(ResultsError):
        read_evaluation(dao, dialect, schema, "killed")
    assert cleanup_results(dao, dialect, schema).removed_runs == ()  # its staging is young: kept
    done = cleanup_results(dao, dialect, schema, stale_after=dt.timedelta(0))
    assert _staging(dao, engine_name, schema) == []
    if engine_name == "duckdb":
        assert done.removed_runs == ("killed",)
        assert sum(_count(dao, schema, part, "killed") for part in PARTS[:3]) == 0
    else:  # parquet tables cannot DELETE: the rows stay, hidden from every reader
        assert done.hidden_runs == ("killed",)
    write_results(evaluation, dao, dialect, schema, run_id="killed")  # a retry lands whole
    assert sorted(list_runs(dao, dialect, schema)["run_id"]) == ["before", "killed"]
    for part in ("exposures", "metrics", "checks"):
        assert _count(dao, schema, part, "killed") == len(part_tables(evaluation)[part])
    assert str(read_evaluation(dao, dialect, schema, "killed")) == str(evaluation)
    dao.close()


def test_two_writers_of_one_run_id_at_once_write_it_once(
    engine: tuple[str, str, str], evaluation: Evaluation
) -> None:
    """Both stage, then both publish at the same moment: one run, each part's rows once, no error
    (with ``transaction`` the unique index on ``run_id`` fails the second's transaction, which then
    finds the run written; Spark's writers of one process publish one at a time)."""
    name, _, schema = engine
    dao = _dao(engine)
    write_results(evaluation, dao, get(name), schema, run_id="first")  # the tables exist
    errors, written = _write_at_once(engine, dao, evaluation, ["same", "same"])
    assert not errors, errors
    assert written == ["same", "same"]
    assert sorted(list_runs(dao, get(name), schema)["run_id"]) == ["first", "same"]
    for part in ("exposures", "metrics", "checks"):
        assert _count(dao, schema, part, "same") == len(part_tables(evaluation)[part])
    assert str(read_evaluation(dao, get(name), schema, "same")) == str(evaluation)
    dao.close()


def _write_at_once(
    engine: tuple[str, str, str], dao: Dao, evaluation: Evaluation, run_ids: list[str]
) -> tuple[list[BaseException], list[str]]:
    """Write ``run_ids`` from threads of their own, each with its own connection, publishing together."""
    name, _, schema = engine
    errors: list[BaseException] = []
    written: list[str] = []
    daos: list[Any] = []
    for _ in run_ids:
        if name == "duckdb":  # one process holds the file: each writer a cursor of its own
            daos.append(type(dao)(dao.connection.cursor()))  # type: ignore[attr-defined]
        else:
            daos.append(_dao(engine))
    barrier = threading.Barrier(len(run_ids), timeout=120)

    def write(writer: Dao, run_id: str) -> None:
        try:
            written.append(
                write_results(evaluation, writer, get(name), schema, run_id=run_id, pause=barrier.wait)
            )
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=write, args=(d, r)) for d, r in zip(daos, run_ids, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for d in daos:
        d.close()
    return errors, written


def test_two_runs_of_one_experiment_at_once_both_land(
    engine: tuple[str, str, str], evaluation: Evaluation
) -> None:
    name, _, schema = engine
    dao = _dao(engine)
    write_results(evaluation, dao, get(name), schema, run_id="first")
    errors, _ = _write_at_once(engine, dao, evaluation, ["run-0", "run-1"])
    assert not errors, errors
    assert sorted(list_runs(dao, get(name), schema)["run_id"]) == ["first", "run-0", "run-1"]
    for run_id in ("run-0", "run-1"):
        assert _count(dao, schema, "metrics", run_id) == len(evaluation.metric_table)
    dao.close()


def test_spark_publishes_the_runs_row_last_and_a_half_published_run_stays_invisible(
    spark_session: Any, evaluation: Evaluation
) -> None:
    """Spark has no multi-table transaction: each table's INSERT lands alone, the runs row last.
    A writer stopped after some parts leaves no run in the runs table or the latest views, and a
    retry completes it without duplicating the parts that landed."""
    from expsql import results

    schema = f"results_{uuid.uuid4().hex[:8]}"
    dao = get("spark").connect(session=spark_session)
    dao.execute(f"CREATE DATABASE {schema}")
    write_results(evaluation, dao, get("spark"), schema, run_id="before")
    calls: list[str] = []
    original = dao.execute

    def stopping(sql: str) -> Any:
        if sql.startswith("INSERT") and "expsql_runs" in sql.split("SELECT")[0]:
            raise KeyboardInterrupt  # the process dies before the marker
        calls.append(sql)
        return original(sql)

    dao.execute = stopping  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        write_results(evaluation, dao, get("spark"), schema, run_id="stopped")
    dao.execute = original  # type: ignore[method-assign]
    assert list_runs(dao, get("spark"), schema)["run_id"].tolist() == ["before"]
    latest = dao.execute(f"SELECT DISTINCT run_id FROM {schema}.expsql_latest_metrics")
    assert latest["run_id"].tolist() == ["before"]
    write_results(evaluation, dao, get("spark"), schema, run_id="stopped")
    count = dao.execute(f"SELECT count(*) AS n FROM {schema}.expsql_metrics WHERE run_id = 'stopped'")
    assert int(count["n"].iloc[0]) == len(evaluation.metric_table)
    assert results.PREFIX == "expsql_"


def test_parts_are_known() -> None:
    assert set(PARTS) >= {"exposures", "metrics", "checks", "timeline"}


@pytest.fixture(scope="module")
def full_evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    from tests.test_results import full_evaluation as build

    return build.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "part",
    ["timeline", "breakdown_exposures", "breakdown_metrics", "breakdown_checks", "breakdown_timeline"],
)
def test_breakdown_and_timeline_tables_read_back_equal(
    engine: tuple[str, str, str], full_evaluation: Evaluation, part: str
) -> None:
    name, _, schema = engine
    dao = _dao(engine)
    run_id = write_results(full_evaluation, dao, get(name), schema)
    table = part_tables(full_evaluation)[part]
    assert_same(read_part(dao, get(name), schema, part, run_id, table.columns), table.to_pandas())
    dao.close()
