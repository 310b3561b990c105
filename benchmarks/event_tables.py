"""Several events tables on DuckDB: the query over two tables against the same over their view.

Issue 24: with ``events`` a list of tables, the query reads each referenced table once for its
goals and its own columns. Its target: 10 metrics over two tables (10M events together) at most
**1.0x** the same metrics over one ``UNION ALL`` view of them, the workaround it replaces. The data
is :mod:`exposures`' (imported, not copied), its raw events split in two tables with their own
column names: ``page_events`` (clicks and views, a goal column) and ``orders`` (conversions and
refunds, a goal column of their own, the value named ``amount``).

It asserts that both queries return the same rows, then times them alternated
(:func:`query.run_rounds`): the median of each in wall-clock and in CPU seconds, and the median
over rounds of the ratio.

Run: ``python benchmarks/event_tables.py [--events 10000000] [--threads 2] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import pandas
from exposures import END, EXPOSURE, FIRST_DAY, load
from query import run_rounds

from expsql.compiler import compile_sql
from expsql.models import Experiment
from expsql.source import validate_source

TARGET = 1.0
METRICS = [
    ("count(user.unit.click)", EXPOSURE),
    ("count(user.unit.view)", EXPOSURE),
    ("unique(user.unit.click)", "unique(user.unit.view)"),
    ("count(user.unit.conversion)", EXPOSURE),
    ("unique(user.unit.conversion)", EXPOSURE),
    ("count(user.unit.refund)", EXPOSURE),
    ("value(user.unit.conversion)", EXPOSURE),
    ("value(user.unit.conversion(product=p_1))", EXPOSURE),
    ("value(user.unit.conversion) - value(user.unit.refund)", EXPOSURE),
    ("value(user.unit.conversion)", "count(user.unit.conversion)"),
]
EXPERIMENT = Experiment(
    id="exp-1",
    control_variant="a",
    unit_type="user",
    date_from=FIRST_DAY,
    date_to=END.fromordinal(END.toordinal() - 1),
    metrics=[
        {"id": number, "name": f"metric {number}", "nominator": nominator, "denominator": denominator}
        for number, (nominator, denominator) in enumerate(METRICS, start=1)
    ],
)
PAGES = {
    "table": "page_events",
    "goals": ["click", "view"],
    "columns": {"unit_id": "user_id", "goal": "action", "timestamp": "ts", "value": None},
}
ORDERS = {
    "table": "orders",
    "goals": ["conversion", "refund"],
    "columns": {"unit_id": "customer_id", "goal": "kind", "value": "amount", "timestamp": "ordered_at"},
    "dimensions": {"product": "string"},
}
TWO_TABLES = validate_source({"exposures": {}, "events": [PAGES, ORDERS]})
VIEW = validate_source(
    {"exposures": {}, "events": {"table": "all_events", "dimensions": {"product": "string"}}}
)


def split(connection: duckdb.DuckDBPyConnection) -> None:
    """The raw events as two tables, and the view a user would write to read them as one."""
    connection.execute(
        "CREATE TABLE page_events AS SELECT unit_id AS user_id, event AS action, timestamp AS ts "
        "FROM events WHERE event IN ('click', 'view')"
    )
    connection.execute(
        "CREATE TABLE orders AS SELECT unit_id AS customer_id, event AS kind, value AS amount, "
        "timestamp AS ordered_at, product FROM events WHERE event IN ('conversion', 'refund')"
    )
    connection.execute(
        "CREATE VIEW all_events AS "
        "SELECT user_id AS unit_id, action AS event, CAST(NULL AS DOUBLE) AS value, ts AS timestamp, "
        "CAST(NULL AS TEXT) AS product FROM page_events UNION ALL "
        "SELECT customer_id, kind, amount, ordered_at, product FROM orders"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    connection = duckdb.connect()
    connection.execute(f"SET threads = {args.threads}")
    started = time.perf_counter()
    load(connection, args.events)
    split(connection)
    print(f"loaded {args.events:,} events, split into two tables, in {time.perf_counter() - started:.1f} s")
    queries = {
        "two tables": compile_sql(EXPERIMENT, dialect="duckdb", rows="metrics", source=TWO_TABLES),
        "UNION ALL view": compile_sql(EXPERIMENT, dialect="duckdb", rows="metrics", source=VIEW),
    }
    results = {name: connection.execute(sql).df() for name, sql in queries.items()}
    keys = ["exp_variant_id", "metric_id"]
    two, view = (frame.sort_values(keys, ignore_index=True) for frame in results.values())
    pandas.testing.assert_frame_equal(two, view, check_exact=False, rtol=1e-12)
    print(f"both queries return the same {len(two)} rows (to a relative 1e-12: sums in another order)\n")
    cpu: list[dict[str, float]] = []
    rounds = run_rounds(
        {name: (lambda sql=sql: connection.execute(sql).fetchall()) for name, sql in queries.items()},
        args.repeat,
        cpu,
    )
    print(f"DuckDB, {args.events:,} events, {args.threads} threads, median of {args.repeat} rounds")
    print(f"{'':>18} {'wall':>9} {'cpu':>9}")
    for name in queries:
        wall = statistics.median(r[name] for r in rounds)
        used = statistics.median(c[name] for c in cpu)
        print(f"{name:>18} {wall:8.3f}s {used:8.3f}s")
    ratio = statistics.median(r["two tables"] / r["UNION ALL view"] for r in rounds)
    cpu_ratio = statistics.median(c["two tables"] / c["UNION ALL view"] for c in cpu)
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"two tables / UNION ALL view: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU; target ≤ {TARGET}x: {verdict}"
    )


if __name__ == "__main__":
    main()
