"""expsql.results: each evaluation written back as an append-only history (DuckDB here; the engines'
tests in tests/engines/test_results_engines.py)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from expsql.demo import demo_experiment, write_demo_database
from expsql.dialects import get
from expsql.results import (
    ResultsError,
    cleanup_results,
    list_runs,
    part_tables,
    read_evaluation,
    read_part,
    write_results,
)
from expsql.results_staging import STALE_AFTER, stage_table, stage_tag, staged_at, table_names
from expsql.runner import connect, run
from expsql.stats.evaluation import Evaluation
from expsql.stats.tables import Table


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    path = write_demo_database(tmp_path_factory.mktemp("results") / "demo.duckdb", units=2_000)
    base = run(demo_experiment(), connect("duckdb", str(path)), dialect="duckdb").evaluation
    return with_edge_values(base)


def with_edge_values(evaluation: Evaluation) -> Evaluation:
    """NaN, ±inf and non-ASCII names in the metrics, as the stats can produce them."""
    table = evaluation.metric_table
    data = list(table.data)
    mean = np.array(table.column("mean"), dtype=float)
    mean[0], mean[-1] = math.inf, -math.inf
    data[table.columns.index("mean")] = mean
    names = np.array(table.column("metric_name"), dtype=object)
    names[0] = "Umsatz pro Käufer — 購入 ✓"
    data[table.columns.index("metric_name")] = names
    return replace(evaluation, metric_table=Table(table.columns, tuple(data)))


def assert_same(read: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert list(read.columns) == list(frame.columns)
    assert len(read) == len(frame)
    for name in frame.columns:
        for got, want in zip(read[name].tolist(), frame[name].tolist(), strict=True):
            if isinstance(want, float) and math.isnan(want):
                assert isinstance(got, float) and math.isnan(got), (name, got)
            elif want is None or want is pd.NA:
                assert got is None or got is pd.NA or (isinstance(got, float) and math.isnan(got)), (
                    name,
                    got,
                )
            else:
                assert got == want, (name, got, want)
                assert type(got) is type(want) or isinstance(want, float | int | np.number), (name, got, want)


def check_round_trip(dao, dialect_name: str, schema: str, evaluation: Evaluation) -> None:
    dialect = get(dialect_name)
    run_id = write_results(evaluation, dao, dialect, schema)
    for part, table in part_tables(evaluation).items():
        assert_same(read_part(dao, dialect, schema, part, run_id, table.columns), table.to_pandas())
    assert str(read_evaluation(dao, dialect, schema, run_id)) == str(evaluation)


@pytest.mark.parametrize("part", ["exposures", "metrics", "checks"])
def test_each_table_reads_back_equal_to_its_frame(evaluation: Evaluation, part: str, tmp_path: Path) -> None:
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dao.execute("CREATE SCHEMA results")
    run_id = write_results(evaluation, dao, get("duckdb"), "results")
    table = part_tables(evaluation)[part]
    assert_same(read_part(dao, get("duckdb"), "results", part, run_id, table.columns), table.to_pandas())


def test_nan_and_infinities_stay_ieee_values(evaluation: Evaluation, tmp_path: Path) -> None:
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dao.execute("CREATE SCHEMA results")
    run_id = write_results(evaluation, dao, get("duckdb"), "results")
    means = read_part(dao, get("duckdb"), "results", "metrics", run_id, ("mean", "metric_name"))
    assert means["mean"].iloc[0] == math.inf and means["mean"].iloc[-1] == -math.inf
    assert means["metric_name"].iloc[0] == "Umsatz pro Käufer — 購入 ✓"
    nans = dao.execute("SELECT count(*) AS n FROM results.expsql_metrics WHERE isnan(risk_control)")
    nulls = dao.execute("SELECT count(*) AS n FROM results.expsql_metrics WHERE risk_control IS NULL")
    assert int(nans["n"].iloc[0]) == int(np.isnan(evaluation.metrics["risk_control"]).sum()) > 0
    assert int(nulls["n"].iloc[0]) == 0


def test_the_scorecard_prints_the_same_from_the_tables(evaluation: Evaluation, tmp_path: Path) -> None:
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dao.execute("CREATE SCHEMA results")
    check_round_trip(dao, "duckdb", "results", evaluation)


def test_rewriting_a_run_id_duplicates_nothing_and_runs_append(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dao.execute("CREATE SCHEMA results")
    dialect = get("duckdb")
    write_results(evaluation, dao, dialect, "results", run_id="run-1")
    write_results(evaluation, dao, dialect, "results", run_id="run-1")
    write_results(evaluation, dao, dialect, "results", run_id="run-2")
    runs = list_runs(dao, dialect, "results")
    assert sorted(runs["run_id"]) == ["run-1", "run-2"]
    count = dao.execute(
        "SELECT run_id, count(*) AS n FROM results.expsql_metrics GROUP BY run_id ORDER BY run_id"
    )
    assert count["n"].tolist() == [len(evaluation.metric_table)] * 2
    latest = dao.execute("SELECT DISTINCT run_id FROM results.expsql_latest_metrics")
    assert latest["run_id"].tolist() == ["run-2"]
    leftovers = dao.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'expsql_stage%'"
    )
    assert leftovers.empty


def test_a_later_version_adds_columns_and_drops_none(evaluation: Evaluation, tmp_path: Path) -> None:
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dao.execute("CREATE SCHEMA results")
    dao.execute(
        "CREATE TABLE results.expsql_exposures"
        " (run_id TEXT, row_number BIGINT, exp_variant_id TEXT, old_column TEXT)"
    )
    write_results(evaluation, dao, get("duckdb"), "results")
    columns = dao.execute("SELECT * FROM results.expsql_exposures LIMIT 0").columns.tolist()
    assert "old_column" in columns and "exposures" in columns and "exp_id" in columns


@pytest.fixture(scope="module")
def full_evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    """An evaluation with every part: a breakdown by platform and a daily timeline."""
    from expsql.models import validate_experiment
    from expsql.source import load_source

    path = write_demo_database(tmp_path_factory.mktemp("full") / "demo.duckdb", units=2_000)
    definition = demo_experiment().model_dump(by_alias=True, exclude_none=True)
    experiment = validate_experiment(definition | {"breakdown": ["platform"], "timeline": "daily"})
    source = load_source(Path(__file__).resolve().parents[1] / "examples" / "demo-source.yaml")
    return run(experiment, connect("duckdb", str(path)), dialect="duckdb", source=source).evaluation


@pytest.mark.parametrize(
    "part",
    ["timeline", "breakdown_exposures", "breakdown_metrics", "breakdown_checks", "breakdown_timeline"],
)
def test_breakdown_and_timeline_tables_read_back_equal(
    full_evaluation: Evaluation, part: str, tmp_path: Path
) -> None:
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    run_id = write_results(full_evaluation, dao, get("duckdb"), "results")
    table = part_tables(full_evaluation)[part]
    assert_same(read_part(dao, get("duckdb"), "results", part, run_id, table.columns), table.to_pandas())
    assert str(read_evaluation(dao, get("duckdb"), "results", run_id)) == str(full_evaluation)


def test_the_next_write_drops_stale_staging_tables_and_keeps_young_ones(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    """A killed writer's staging tables (its tag holds when it began) go with the next write once
    older than ``stale_after``; a writer's that may still be running stay."""
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dao.execute("CREATE SCHEMA results")
    now = dt.datetime.now(dt.UTC)
    old = stage_table("results", stage_tag("killed", now - STALE_AFTER - dt.timedelta(minutes=1)), "metrics")
    young = stage_table("results", stage_tag("running", now), "breakdown_exposures")
    for name in (old, young):
        dao.load_table(pd.DataFrame({"run_id": ["x"]}), name)  # type: ignore[attr-defined]
    assert staged_at(young.split(".")[1]) is not None and len(young.split(".")[1]) <= 63
    write_results(evaluation, dao, get("duckdb"), "results")
    left = [t for t in table_names(dao, get("duckdb"), "results") if t.startswith("expsql_stage_")]
    assert left == [young.split(".")[1]]
    assert cleanup_results(dao, get("duckdb"), "results", stale_after=dt.timedelta(0)).dropped_staging == (
        young.split(".")[1],
    )


def test_readers_see_no_rows_of_a_run_without_its_runs_row(evaluation: Evaluation, tmp_path: Path) -> None:
    """Rows a marker writer left in a table without the runs row stay out of every reader."""
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    dialect = get("duckdb")
    run_id = write_results(evaluation, dao, dialect, "results")
    dao.execute(
        "INSERT INTO results.expsql_metrics SELECT * REPLACE ('orphan' AS run_id)"
        f" FROM results.expsql_metrics WHERE run_id = '{run_id}'"
    )
    columns = part_tables(evaluation)["metrics"].columns
    assert read_part(dao, dialect, "results", "metrics", "orphan", columns).empty
    assert dao.execute("SELECT DISTINCT run_id FROM results.expsql_latest_metrics")["run_id"].tolist() == [
        run_id
    ]
    with pytest.raises(ResultsError):
        read_evaluation(dao, dialect, "results", "orphan")
    assert list_runs(dao, dialect, "results")["run_id"].tolist() == [run_id]


def test_cleanup_on_a_marker_dialect_deletes_the_rows_of_gone_writers_only(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    """Rows without a runs row: deleted when no staging table of their run is left (the writer is
    gone), kept while one is (the writer may be publishing); a transaction dialect never looks."""
    dao = connect("duckdb", str(tmp_path / "r.duckdb"))
    marker = replace(get("duckdb"), publish="marker")
    run_id = write_results(evaluation, dao, marker, "results")
    for orphan in ("gone", "publishing"):
        dao.execute(
            f"INSERT INTO results.expsql_checks SELECT * REPLACE ('{orphan}' AS run_id)"
            f" FROM results.expsql_checks WHERE run_id = '{run_id}'"
        )
    live = stage_table("results", stage_tag("publishing", dt.datetime.now(dt.UTC)), "checks")
    dao.load_table(pd.DataFrame({"run_id": ["publishing"]}), live)  # type: ignore[attr-defined]
    assert cleanup_results(dao, get("duckdb"), "results").removed_runs == ()
    done = cleanup_results(dao, marker, "results")
    assert done.removed_runs == ("gone",) and done.hidden_runs == ()
    left = dao.execute("SELECT DISTINCT run_id FROM results.expsql_checks ORDER BY run_id")["run_id"]
    assert left.tolist() == sorted([run_id, "publishing"])
