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


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``(dialect, target, schema)``: a fresh results schema on the engine."""
    schema = f"results_{uuid.uuid4().hex[:8]}"
    if request.param == "duckdb":
        target = str(tmp_path / "results.duckdb")
    else:
        target = request.getfixturevalue("postgres_server").dsn
    dao = get(request.param).connect(target)
    dao.execute(f"CREATE SCHEMA {schema}")
    dao.close()
    yield request.param, target, schema


def _dao(engine: tuple[str, str, str]) -> Dao:
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
        if name == "duckdb":  # one process holds the file: each writer a cursor of its own
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


def test_parts_are_known() -> None:
    assert set(PARTS) >= {"exposures", "metrics", "checks", "timeline"}
