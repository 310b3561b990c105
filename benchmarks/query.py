"""How fast is the compiled SQL? DuckDB on generated events of 1M and 10M rows, Spark on 1M.

Compares, in the same run and on the same table:

- the compiled goal-rows query against the seed's hand-written two-level query (the one in
  ``ep-stats-integration-guide.txt``, restricted to the experiment): target ratio ≤ 1.15;
- the compiled metric-rows query for 20 metrics against 1 metric, printed with no target: the
  first wave's yardstick (≤ 2), which issue 14 replaced because one metric reads a fraction of
  the rows the twenty read;
- issue 14, the per-unit step's cost however many metrics: 20 metrics over 20 goal terms (half
  with overlapping dimension filters) and 200 metrics over 100 terms, against two hand-written
  baselines over the same rows: the **seed-style** goal rows grouped by goal and the referenced
  dimension columns (targets ≤ 1.0 and ≤ 1.2), and the **per-unit floor**, one per-unit ``SUM``
  over every row the experiment reads, then per variant (targets ≤ 3 and ≤ 5); ``cpu`` is the
  same ratio in process CPU seconds (all threads), a fairer figure on a busy machine;
- and prints Spark local-mode times for 1M rows (and PostgreSQL's with ``--postgres DSN``).

Run from the repository root::

    .venv/bin/python benchmarks/query.py                 # 1M and 10M rows, then Spark on 1M
    .venv/bin/python benchmarks/query.py --sizes 1000000 --no-spark
    .venv/bin/python benchmarks/query.py --sizes 5000000 --threads 2 --no-spark --postgres postgresql://...
    .venv/bin/python benchmarks/query.py --sizes 1000000 --no-spark --postgres auto --postgres-rows 200000

Each query runs once to warm up, then ``--repeat`` rounds in which the queries alternate; the
report gives each query's median and the median over rounds of each ratio, so a machine that is
busy for a while slows both sides of a ratio alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


def strings(values: Sequence[str] | np.ndarray, indices: np.ndarray) -> pa.Array:
    """A plain string column ``values[indices]``, built in Arrow (numpy string arrays are slow)."""
    return pc.take(pa.array(list(values), type=pa.string()), pa.array(indices))


def generate_events(rows: int, seed: int = SEED) -> pa.Table:
    """``rows`` events of one experiment, two variants, five goals, ``rows / 10`` users."""
    rng = np.random.default_rng(seed)
    units = rng.integers(0, max(1, rows // EVENTS_PER_UNIT), size=rows)
    goals = rng.choice(len(GOALS), size=rows, p=GOAL_SHARES)
    exposure = goals == 0
    cnt = np.where(exposure, 1, rng.integers(0, 4, size=rows))
    value = np.where(goals >= 3, np.round(rng.gamma(2.0, 7.5, size=rows), 2), 0.0)
    unit_ids = pc.binary_join_element_wise("u", pc.cast(pa.array(units), pa.string()), "")
    return pa.table(
        {
            "exp_id": strings(["exp-1"], np.zeros(rows, dtype=np.int64)),
            "exp_variant_id": strings(["a", "b"], units % 2),
            "unit_type": strings(["user"], np.zeros(rows, dtype=np.int64)),
            "agg_type": strings(["unit", "global"], exposure.astype(np.int64)),
            "goal": strings(GOALS, goals),
            "unit_id": unit_ids,
            "cnt": pa.array(cnt, type=pa.int64()),
            "value": pa.array(value, type=pa.float64()),
            "date": pa.array(np.datetime64("2024-03-01") + rng.integers(0, 14, size=rows).astype("m8[D]")),
            "product": strings(PRODUCTS, rng.integers(0, len(PRODUCTS), size=rows)),
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


#: 20 metrics over the same five goals, no dimension filter: one layer, the pure cost of more metrics.
PLAIN_METRICS = [
    (f"{function}(user.unit.{goal})", denominator)
    for function in ("count", "value", "unique")
    for goal in ("click", "view", "conversion", "refund")
    for denominator in ("count(user.global.exposure)", "unique(user.global.exposure)")
][:20]

#: Seed-style goal rows over the dimension columns the issue-14 cases reference (``product``, ``price``).
SEED_STYLE_GOAL_ROWS = """
SELECT exp_id, exp_variant_id, unit_type, agg_type, goal, product, price,
       SUM(sum_cnt) AS count, SUM(sum_cnt * sum_cnt) AS sum_sqr_count,
       SUM(value) AS sum_value, SUM(value * value) AS sum_sqr_value, SUM("unique") AS count_unique
FROM (
    SELECT exp_id, exp_variant_id, unit_type, agg_type, goal, product, price, unit_id,
           SUM(cnt) AS sum_cnt, SUM(value) AS value, CASE WHEN SUM(cnt) > 0 THEN 1 ELSE 0 END AS "unique"
    FROM events
    WHERE exp_id = 'exp-1'
    GROUP BY exp_id, exp_variant_id, unit_type, agg_type, goal, product, price, unit_id
) AS u
GROUP BY exp_id, exp_variant_id, unit_type, agg_type, goal, product, price
"""
#: The per-unit floor: one per-unit sum over every row the experiment reads, then per variant.
PER_UNIT_FLOOR = """
SELECT exp_variant_id, COUNT(*) AS n, SUM(s) AS sum_x, SUM(s * s) AS sum_x2
FROM (SELECT exp_variant_id, unit_id, SUM(cnt) AS s FROM events WHERE exp_id = 'exp-1'
      GROUP BY exp_variant_id, unit_id) AS u
GROUP BY exp_variant_id
"""

PLAIN_GOALS = ("click", "view", "conversion", "refund")
TERM_PRODUCTS = ("p_1", "p_2", "p_10", "pa1", "q_1")


def goal_terms(count: int) -> list[str]:
    """``count`` goal terms, the exposure first, then the four goals, then alternately a term that
    overlaps others of its goal (``product=^p_``, ``price>k``) and one disjoint from its siblings
    (``product=v, price=k``)."""
    terms = ["user.global.exposure", *(f"user.unit.{goal}" for goal in PLAIN_GOALS)]
    for k in range(count):
        goal, j = PLAIN_GOALS[k % 4], k // 4
        overlapping = f"price>{j % 20}" if j % 2 else f"product=^p_{'' if j < 2 else j}"
        terms += [
            f"user.unit.{goal}({overlapping})",
            f"user.unit.{goal}(product={TERM_PRODUCTS[j % 5]}, price={j // 5})",
        ]
    return terms[:count]


def many_metrics(metrics: int, terms: int) -> list[tuple[str, str]]:
    """``metrics`` metrics over ``terms`` goal terms: count, then value, of each term per exposure
    (a third per ``unique`` of another term)."""
    names = goal_terms(terms)
    rows = []
    for i in range(metrics):
        function = "value" if (i // (terms - 1)) % 2 else "count"
        other = names[1 + (i * 7) % (terms - 1)]
        denominator = "count(user.global.exposure)" if i % 3 else f"unique({other})"
        rows.append((f"{function}({names[1 + i % (terms - 1)]})", denominator))
    return rows


HAND_WRITTEN = "hand-written goal rows"
COMPILED = "compiled goal rows"
ONE_METRIC = "metric rows, 1 metric"
TWENTY_PLAIN = "metric rows, 20 metrics (no dimensions)"
TWENTY_METRICS = "metric rows, 20 metrics (overlapping dimensions)"
SEED_STYLE = "seed-style goal rows (goal, product, price)"
FLOOR = "per-unit floor"
TWENTY_TERMS = "metric rows, 20 metrics over 20 terms"
HUNDRED_TERMS = "metric rows, 200 metrics over 100 terms"
#: (numerator, denominator, target); ``None``: printed for comparison with earlier runs only.
RATIOS: list[tuple[str, str, float | None]] = [
    (COMPILED, HAND_WRITTEN, 1.15),
    (TWENTY_PLAIN, ONE_METRIC, None),
    (TWENTY_METRICS, ONE_METRIC, None),
    (TWENTY_TERMS, SEED_STYLE, 1.0),
    (TWENTY_TERMS, FLOOR, 3),
    (HUNDRED_TERMS, SEED_STYLE, 1.2),
    (HUNDRED_TERMS, FLOOR, 5),
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


def run_rounds(
    queries: dict[str, Callable[[], Any]], repeat: int, cpu: list[dict[str, float]] | None = None
) -> list[dict[str, float]]:
    """Seconds per query per round; queries alternate within a round, so a busy machine slows all.

    :param cpu: when given, receives the process CPU seconds per query per round.
    """
    for run in queries.values():
        run()  # warm-up: caches, JIT, Spark's first job
    rounds = []
    for _ in range(repeat):
        times, cpu_times = {}, {}
        for name, run in queries.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            times[name] = time.perf_counter() - start
            cpu_times[name] = time.process_time() - start_cpu
        rounds.append(times)
        if cpu is not None:
            cpu.append(cpu_times)
    return rounds


Timings = tuple[list[dict[str, float]], list[dict[str, float]]]


def time_queries(dao: Dao, dialect: str, repeat: int) -> Timings:
    """Wall-clock and CPU seconds per query per round."""

    def compiled(metrics: list[tuple[str, str]], rows: str) -> str:
        return compile_sql(experiment(metrics), dialect=dialect, rows=rows, source=SOURCE)

    def written(sql: str) -> str:
        return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]

    queries = {
        HAND_WRITTEN: written(HAND_WRITTEN_GOAL_ROWS),
        COMPILED: compiled(GOAL_METRICS, "goals"),
        ONE_METRIC: compiled(GOAL_METRICS[:1], "metrics"),
        TWENTY_PLAIN: compiled(PLAIN_METRICS, "metrics"),
        TWENTY_METRICS: compiled(GOAL_METRICS + DIMENSION_METRICS, "metrics"),
        SEED_STYLE: written(SEED_STYLE_GOAL_ROWS),
        FLOOR: written(PER_UNIT_FLOOR),
        TWENTY_TERMS: compiled(many_metrics(20, 20), "metrics"),
        HUNDRED_TERMS: compiled(many_metrics(200, 100), "metrics"),
    }
    cpu: list[dict[str, float]] = []
    wall = run_rounds({name: lambda sql=sql: dao.execute(sql) for name, sql in queries.items()}, repeat, cpu)
    return wall, cpu


def report(title: str, timings: Timings, *, in_process: bool = True) -> None:
    """Median seconds per query, and the median over rounds of each ratio (wall-clock, then CPU).

    :param in_process: whether the engine runs in this process; if not (PostgreSQL's server,
        Spark's JVM), this process's CPU time says nothing about the query and is not printed.
    """
    rounds, cpu = timings
    print(f"\n{title}")
    for name in rounds[0]:
        seconds = statistics.median(r[name] for r in rounds)
        cpu_seconds = f"  (cpu {statistics.median(r[name] for r in cpu):7.3f} s)" if in_process else ""
        print(f"  {name:<50} {seconds:8.3f} s{cpu_seconds}")
    for numerator, denominator, target in RATIOS:
        ratio = statistics.median(r[numerator] / r[denominator] for r in rounds)
        cpu_ratio = statistics.median(r[numerator] / max(r[denominator], 1e-9) for r in cpu)
        goal = "no target" if target is None else f"target ≤ {target}"
        measured = f"{ratio:8.2f}   ({goal}{f'; cpu {cpu_ratio:.2f}' if in_process else ''})"
        print(f"  {numerator} / {denominator}\n  {'':<50} {measured}")


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
    title = f"Spark local[2], {rows:,} events (loaded in {loaded:.1f} s)"
    report(title, time_queries(dao, "spark", repeat), in_process=False)
    session.stop()


POSTGRES_TYPES = {"exp_id": "TEXT", "exp_variant_id": "TEXT", "unit_type": "TEXT", "agg_type": "TEXT",
                  "goal": "TEXT", "unit_id": "TEXT", "cnt": "BIGINT", "value": "DOUBLE PRECISION",
                  "date": "DATE", "product": "TEXT", "price": "BIGINT"}  # fmt: skip


def bench_postgres(rows: int, repeat: int, dsn: str) -> None:
    """The same queries on PostgreSQL at ``dsn`` (its ``events`` table is replaced)."""
    import psycopg

    events = generate_events(rows)
    start = time.perf_counter()
    connection = psycopg.connect(dsn, autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS events")
        columns = ", ".join(f"{name} {kind}" for name, kind in POSTGRES_TYPES.items())
        cursor.execute(f"CREATE TABLE events ({columns})")
        with cursor.copy(f"COPY events ({', '.join(POSTGRES_TYPES)}) FROM STDIN") as copy:
            for batch in events.select(list(POSTGRES_TYPES)).to_batches(100_000):
                for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                    copy.write_row(row)
        cursor.execute("ANALYZE events")
    loaded = time.perf_counter() - start
    dao = get("postgres").connect(connection=connection)
    title = f"PostgreSQL, {rows:,} events (loaded in {loaded:.1f} s)"
    report(title, time_queries(dao, "postgres", repeat), in_process=False)
    connection.close()


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """The DSN of a PostgreSQL server started for this run in a temporary directory (the test
    suite's, :class:`expsql.testing.engines.PostgresServer`), stopped and removed afterwards."""
    from expsql.testing.engines import PostgresServer

    server = PostgresServer()
    try:
        server.start()
        yield server.dsn
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--spark-rows", type=int, default=1_000_000)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="also time PostgreSQL at DSN (replaces its events table); 'auto' starts a throwaway "
        "server from `pg_config --bindir`'s binaries, as the tests do",
    )
    parser.add_argument("--postgres-rows", type=int, default=1_000_000)
    arguments = parser.parse_args()
    for rows in arguments.sizes:
        bench_duckdb(rows, arguments.repeat, arguments.threads)
    if arguments.postgres == "auto":
        with throwaway_postgres() as dsn:
            bench_postgres(arguments.postgres_rows, arguments.repeat, dsn)
    elif arguments.postgres:
        bench_postgres(arguments.postgres_rows, arguments.repeat, arguments.postgres)
    if not arguments.no_spark:
        bench_spark(arguments.spark_rows, arguments.repeat)


if __name__ == "__main__":
    main()
