"""What the daily timeline costs on DuckDB: its one query against the single look's, same data.

Issue 13: ``timeline: daily`` gives the metric rows as of each of the window's 14 days from one
query (:mod:`expsql.compiler.timeline`): per unit and day sums, running sums per unit, increments
of the per-unit squares and products, running sums per variant. Its target is at most **2x** the
single-look metric rows on the exposures layout. The data is :mod:`exposures`' (10M events, ~1M
units, 14 days; imported, not copied); the experiment is its six metrics.

It asserts that the timeline's last day gives the single look's sums, then times both queries:
each runs once to warm up, then ``--repeat`` rounds in which they alternate (:func:`query.run_rounds`).
The report gives each query's median, in wall-clock and in CPU seconds (the process's, all threads:
a fairer figure on a busy machine), and the median over rounds of the timeline's ratio to the single
look.

Run: ``python benchmarks/timeline.py [--events 10000000] [--threads 2] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import duckdb
from exposures import DAYS, END, EXPERIMENT, EXPOSURES_SOURCE, load, metric_sums
from query import run_rounds

from expsql.compiler import compile_sql

TIMELINE = EXPERIMENT.model_copy(update={"timeline": "daily"})
TARGET = 2.0


def last_day(rows: list[tuple], columns: list[str]) -> list[tuple]:
    """The timeline's rows as of the window's last day, as the single look's (the day dropped):
    per variant and metric, its latest row."""
    day = columns.index("day")
    latest: dict[tuple[str, str], tuple] = {}
    for row in sorted(rows, key=lambda r: r[day]):
        latest[(row[1], row[2])] = row[:day] + row[day + 1 :]
    return list(latest.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET threads = {int(arguments.threads)}")
    start = time.perf_counter()
    load(connection, arguments.events)
    print(f"loaded {arguments.events:,} events over {DAYS} days in {time.perf_counter() - start:.1f} s")

    queries = {
        "single look": compile_sql(EXPERIMENT, "duckdb", rows="metrics", source=EXPOSURES_SOURCE),
        "timeline": compile_sql(TIMELINE, "duckdb", rows="metrics", source=EXPOSURES_SOURCE),
    }
    single = metric_sums(connection.execute(queries["single look"]).fetchall())
    result = connection.execute(queries["timeline"])
    columns = [d[0] for d in result.description]
    rows = result.fetchall()
    timeline = metric_sums(last_day(rows, columns))
    assert set(single) == set(timeline), "the timeline's last day has other rows than the single look"
    for key, values in single.items():
        same = all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(values, timeline[key], strict=True))
        assert same, f"{key}: the timeline's last day gives {timeline[key]}, the single look {values}"
    days = len({row[columns.index("day")] for row in rows})
    print(f"the timeline's last day gives the single look's sums ({len(single)} rows; {days} days)")

    cpu: list[dict[str, float]] = []
    rounds = run_rounds(
        {name: lambda s=sql: connection.execute(s).fetchall() for name, sql in queries.items()},
        arguments.repeat,
        cpu,
    )
    print(
        f"\nDuckDB, {arguments.events:,} events, {DAYS} days to {END}, {arguments.threads} threads, "
        f"median of {arguments.repeat} rounds (CPU: all threads, fairer on a busy machine)"
    )
    print(f"  {'':<12} {'wall':>9}  {'ratio':>5}  {'cpu':>9}  {'ratio':>5}")
    for name in queries:
        line = f"  {name:<12}"
        for times in (rounds, cpu):
            seconds = statistics.median(r[name] for r in times)
            ratio = statistics.median(r[name] / r["single look"] for r in times)
            line += f" {seconds:7.3f} s  {ratio:4.2f}x"
        print(line)
    wall = statistics.median(r["timeline"] / r["single look"] for r in rounds)
    cpu_ratio = statistics.median(r["timeline"] / r["single look"] for r in cpu)
    verdict = "met" if wall <= TARGET else "NOT met"
    print(
        f"timeline / single look: {wall:.2f}x wall, {cpu_ratio:.2f}x CPU; "
        f"target ≤ {TARGET:g}x (wall): {verdict}"
    )


if __name__ == "__main__":
    main()
