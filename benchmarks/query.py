"""How fast is the compiled SQL? DuckDB on generated events of 1M and 10M rows, Spark on 1M.

Compares, in the same run and on the same table:

- the compiled goal-rows query against the seed's hand-written two-level query (the one in
  ``ep-stats-integration-guide.txt``, restricted to the experiment): target ratio ≤ 1.15;
- the compiled metric-rows query for 20 metrics against 1 metric: target ratio ≤ 2 (one scan);
- and prints Spark local-mode times for 1M rows.

Run from the repository root::

    .venv/bin/python benchmarks/query.py                 # 1M and 10M rows, then Spark on 1M
    .venv/bin/python benchmarks/query.py --sizes 1000000 --no-spark

Each query runs once to warm up, then ``--repeat`` times; the median is reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import sqlglot

from expsql.compiler import compile_sql
from expsql.dialects import Dao, get
from expsql.models import Experiment
from expsql.source import Source

SEED = 20240301
EVENTS_PER_UNIT = 10
GOALS = np.array(["exposure", "click", "view", "conversion", "refund"])
GOAL_SHARES = np.array([0.2, 0.3, 0.3, 0.1, 0.1])
PRODUCTS = np.array(["p_1", "p_2", "p_10", "pa1", "p%1", "q_1"])
SOURCE = Source(dimensions={"product": "string", "price": "integer"})

#: The seed's query (ep-stats integration guide), with the experiment filter any DAO adds; written
#: for DuckDB and transpiled for Spark.
HAND_WRITTEN_GOAL_ROWS = """
SELECT exp_id, exp_variant_id, unit_type, agg_type, goal,
       SUM(sum_cnt) AS count, SUM(sum_cnt * sum_cnt) AS sum_sqr_count,
       SUM(value) AS sum_value, SUM(value * value) AS sum_sqr_value, SUM("unique") AS count_unique
FROM (
    SELECT exp_id, exp_variant_id, unit_type, agg_type, goal, unit_id,
           SUM(cnt) AS sum_cnt, SUM(value) AS value, IF(SUM(cnt) > 0, 1, 0) AS "unique"
    FROM events
    WHERE exp_id = 'exp-1'
    GROUP BY exp_id, exp_variant_id, unit_type, agg_type, goal, unit_id
) AS u
GROUP BY exp_id, exp_variant_id, unit_type, agg_type, goal
"""


def generate_events(rows: int, seed: int = SEED) -> pa.Table:
    """``rows`` events of one experiment, two variants, five goals, ``rows / 10`` users."""
    rng = np.random.default_rng(seed)
    units = rng.integers(0, max(1, rows // EVENTS_PER_UNIT), size=rows)
    goals = rng.choice(len(GOALS), size=rows, p=GOAL_SHARES)
    exposure = goals == 0
    cnt = np.where(exposure, 1, rng.integers(0, 4, size=rows))
    value = np.where(goals >= 3, np.round(rng.gamma(2.0, 7.5, size=rows), 2), 0.0)
    unit_ids = np.char.add("u", units.astype("U12"))
    return pa.table(
        {
            "exp_id": pa.array(np.full(rows, "exp-1")),
            "exp_variant_id": pa.array(np.where(units % 2 == 0, "a", "b")),
            "unit_type": pa.array(np.full(rows, "user")),
            "agg_type": pa.array(np.where(exposure, "global", "unit")),
            "goal": pa.array(GOALS[goals]),
            "unit_id": pa.array(unit_ids),
            "cnt": pa.array(cnt, type=pa.int64()),
            "value": pa.array(value, type=pa.float64()),
            "date": pa.array(np.datetime64("2024-03-01") + rng.integers(0, 14, size=rows).astype("m8[D]")),
            "product": pa.array(PRODUCTS[rng.integers(0, len(PRODUCTS), size=rows)]),
            "price": pa.array(rng.integers(0, 21, size=rows), type=pa.int64()),
        }
    )


GOAL_METRICS = [
    ("count(user.unit.click)", "count(user.global.exposure)"),
    ("count(user.unit.view)", "count(user.global.exposure)"),
    ("value(user.unit.conversion)", "count(user.global.exposure)"),
    ("value(user.unit.refund)", "count(user.global.exposure)"),
    ("count(user.unit.click)", "count(user.unit.view)"),
]
DIMENSION_METRICS = [
    ("count(user.unit.click(product=p_1))", "count(user.global.exposure)"),
    ("count(user.unit.click(product=^p_))", "count(user.global.exposure)"),
    ("value(user.unit.conversion(product=p_1|p_2))", "count(user.global.exposure)"),
    ("value(user.unit.conversion(price>10))", "unique(user.unit.conversion)"),
    ("value(user.unit.conversion) - value(user.unit.refund)", "count(user.global.exposure)"),
    ("unique(user.unit.click)", "unique(user.global.exposure)"),
    ("count(user.unit.view(product!=q_1))", "count(user.global.exposure)"),
    ("value(user.unit.refund(price<=5))", "value(user.unit.conversion)"),
    ("count(user.unit.click) + count(user.unit.view)", "count(user.global.exposure)"),
    ("unique(user.unit.conversion(product=^p_1))", "unique(user.global.exposure)"),
    ("count(user.unit.click(price>=15))", "count(user.unit.click)"),
    ("value(user.unit.conversion(product=p_10))", "count(user.unit.view(product=p_10))"),
    ("count(user.unit.view(product=^p%))", "count(user.global.exposure)"),
    ("2 * value(user.unit.conversion) - value(user.unit.refund)", "unique(user.global.exposure)"),
    ("count(user.unit.click(product=pa1))", "count(user.unit.view(product=pa1))"),
]


def experiment(metrics: list[tuple[str, str]]) -> Experiment:
    return Experiment(
        id="exp-1",
        control_variant="a",
        unit_type="user",
        metrics=[
            {"id": number, "name": f"metric {number}", "nominator": nominator, "denominator": denominator}
            for number, (nominator, denominator) in enumerate(metrics, start=1)
        ],
    )


def median_seconds(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm-up: caches, JIT, Spark's first job
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_queries(dao: Dao, dialect: str, repeat: int) -> dict[str, float]:
    goal_experiment = experiment(GOAL_METRICS)
    queries = {
        "hand-written goal rows": sqlglot.transpile(HAND_WRITTEN_GOAL_ROWS, read="duckdb", write=dialect)[0],
        "compiled goal rows": compile_sql(goal_experiment, dialect=dialect, rows="goals", source=SOURCE),
        "metric rows, 1 metric": compile_sql(
            experiment(GOAL_METRICS[:1]), dialect=dialect, rows="metrics", source=SOURCE
        ),
        "metric rows, 20 metrics": compile_sql(
            experiment(GOAL_METRICS + DIMENSION_METRICS), dialect=dialect, rows="metrics", source=SOURCE
        ),
    }
    return {name: median_seconds(lambda sql=sql: dao.execute(sql), repeat) for name, sql in queries.items()}


def report(title: str, times: dict[str, float]) -> None:
    print(f"\n{title}")
    for name, seconds in times.items():
        print(f"  {name:<26} {seconds:8.3f} s")
    goal_ratio = times["compiled goal rows"] / times["hand-written goal rows"]
    metric_ratio = times["metric rows, 20 metrics"] / times["metric rows, 1 metric"]
    print(f"  compiled / hand-written    {goal_ratio:8.2f}   (target ≤ 1.15)")
    print(f"  20 metrics / 1 metric      {metric_ratio:8.2f}   (target ≤ 2)")


def bench_duckdb(rows: int, repeat: int, threads: int) -> None:
    dao = get("duckdb").connect(threads=threads)
    start = time.perf_counter()
    dao.connection.from_arrow(generate_events(rows)).create("events")  # type: ignore[attr-defined]
    loaded = time.perf_counter() - start
    report(
        f"DuckDB, {rows:,} events ({threads} threads, loaded in {loaded:.1f} s)",
        time_queries(dao, "duckdb", repeat),
    )
    dao.close()


def bench_spark(rows: int, repeat: int) -> None:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("expsql-benchmark")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter()
    frame = session.createDataFrame(generate_events(rows))
    frame.cache().count()
    frame.createOrReplaceTempView("events")
    loaded = time.perf_counter() - start
    dao = get("spark").connect(session=session)
    report(f"Spark local[2], {rows:,} events (loaded in {loaded:.1f} s)", time_queries(dao, "spark", repeat))
    session.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--spark-rows", type=int, default=1_000_000)
    parser.add_argument("--no-spark", action="store_true")
    arguments = parser.parse_args()
    for rows in arguments.sizes:
        bench_duckdb(rows, arguments.repeat, arguments.threads)
    if not arguments.no_spark:
        bench_spark(arguments.spark_rows, arguments.repeat)


if __name__ == "__main__":
    main()
