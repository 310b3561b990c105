"""Results written back on DuckDB and PostgreSQL: every table reads back equal to its Evaluation
frame (NaN, ±inf, non-ASCII names), a process killed between staging and publishing leaves no
visible run, two runs of one experiment at once both land."""

from __future__ import annotations

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
from expsql.results import PARTS, list_runs, part_tables, read_evaluation, read_part, write_results
from expsql.runner import connect, run
from expsql.stats.evaluation import Evaluation
from tests.test_results import assert_same, with_edge_values

pytestmark = pytest.mark.engine("results")

KILLED_WRITER = """
import pickle, sys, time
from expsql.dialects import get
from expsql.results import write_results
dialect, target, schema, run_id, path = sys.argv[1:]
evaluation = pickle.load(open(path, "rb"))
dao = get(dialect).connect(target)
def pause():
    print("staged", flush=True)
    time.sleep(120)
write_results(evaluation, dao, get(dialect), schema, run_id=run_id, pause=pause)
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


def _dao(engine: tuple[str, str, str]) -> Dao:
    if engine[0] == "spark":
        return get("spark").connect(session=SESSIONS["spark"])
    return get(engine[0]).connect(engine[1])


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
    engine: tuple[str, str, str], evaluation: Evaluation, tmp_path: Path
) -> None:
    name, target, schema = engine
    if name == "spark":
        pytest.skip("a local Spark session's catalog lives in this process: see the marker test below")
    dao = _dao(engine)
    write_results(evaluation, dao, get(name), schema, run_id="before")  # the tables exist
    dao.close()
    pickled = tmp_path / "evaluation.pickle"
    pickled.write_bytes(pickle.dumps(evaluation))
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, name, target, schema, "killed", str(pickled)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "staged"
    finally:
        writer.kill()
        writer.wait()
    dao = _dao(engine)
    assert list_runs(dao, get(name), schema)["run_id"].tolist() == ["before"]
    for part in ("exposures", "metrics", "checks"):
        rows = dao.execute(f"SELECT count(*) AS n FROM {schema}.\"expsql_{part}\" WHERE run_id = 'killed'")
        assert int(rows["n"].iloc[0]) == 0
    write_results(evaluation, dao, get(name), schema, run_id="killed")  # a retry lands whole
    assert sorted(list_runs(dao, get(name), schema)["run_id"]) == ["before", "killed"]
    dao.close()


def test_two_runs_of_one_experiment_at_once_both_land(
    engine: tuple[str, str, str], evaluation: Evaluation
) -> None:
    name, _, schema = engine
    dao = _dao(engine)
    write_results(evaluation, dao, get(name), schema, run_id="first")
    errors: list[BaseException] = []
    daos: list[Any] = []
    for _ in range(2):
        if name == "spark":
            daos.append(_dao(engine))
        elif name == "duckdb":  # one process holds the file: each writer a cursor of its own
            daos.append(type(dao)(dao.connection.cursor()))  # type: ignore[attr-defined]
        else:
            daos.append(_dao(engine))

    def write(writer: Dao, run_id: str) -> None:
        try:
            write_results(evaluation, writer, get(name), schema, run_id=run_id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(d, f"run-{i}")) for i, d in enumerate(daos)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(list_runs(dao, get(name), schema)["run_id"]) == ["first", "run-0", "run-1"]
    for d in daos:
        d.close()
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
