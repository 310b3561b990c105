"""What a breakdown costs on DuckDB: the same metric rows with and without segments, both layouts.

The tables of ``benchmarks/exposures.py`` (an exposure log, raw events and the attributed table
derived from them, default 2M events) get two exposure attributes, stored in copies of the
tables: ``platform`` (3 values) and ``country`` (50 values, ~2 % NULL), taken from a hash of the
unit id, on the exposures and on the attributed table's exposure rows. Then, in one process,
alternating per round:

- ``plain``: the experiment's metric rows (10 metrics);
- ``platform``: the same with ``breakdown: [platform]``;
- ``country+platform``: ``breakdown: [country, platform]`` (~150 segment combinations per variant);

for each layout, and the statistics on each query's rows: ``evaluate`` without a breakdown, and with
the breakdown's per-segment evaluations (top 20 of 50 countries, the rest merged into ``(other)``
in the stats). The report prints each median and its ratio to ``plain`` of the same layout.

Run: ``python benchmarks/breakdowns.py [--events 2000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
from exposures import ATTRIBUTED_SOURCE, EXPERIMENT, EXPOSURES_SOURCE, load
from query import run_rounds

from expsql.compiler import compile_sql
from expsql.source import AnySource, Source, validate_source
from expsql.stats import evaluate

BREAKDOWNS = {"plain": [], "platform": ["platform"], "country+platform": ["country", "platform"]}
ATTRIBUTES = {"platform": "string", "country": "string"}
ATTRIBUTE_SQL = """
    ['web', 'ios', 'android'][(1 + hash(unit_id || 'p') % 3)::BIGINT] AS platform,
    CASE WHEN hash(unit_id || 'c') % 50 = 0 THEN NULL ELSE 'c' || (hash(unit_id || 'c') % 50) END AS country
"""


def with_attributes(connection: duckdb.DuckDBPyConnection) -> dict[str, AnySource]:
    """Tables with the two attributes (stored, as a warehouse stores them), and their sources."""
    connection.execute(f"CREATE TABLE exposures_with_attributes AS SELECT *, {ATTRIBUTE_SQL} FROM exposures")
    connection.execute(
        f"""CREATE TABLE attributed_with_attributes AS
        SELECT * EXCLUDE (platform, country),
               CASE WHEN goal = 'exposure' THEN platform END AS platform,
               CASE WHEN goal = 'exposure' THEN country END AS country
        FROM (SELECT *, {ATTRIBUTE_SQL} FROM attributed)"""
    )
    attributed = Source(
        table="attributed_with_attributes",
        columns=ATTRIBUTED_SOURCE.columns,
        dimensions={**ATTRIBUTED_SOURCE.dimensions, **ATTRIBUTES},
    )
    exposures = validate_source(
        {
            "exposures": {"table": "exposures_with_attributes", "dimensions": ATTRIBUTES},
            "events": [table.model_dump() for table in EXPOSURES_SOURCE.events],
        }
    )
    return {"attributed": attributed, "exposures": exposures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    connection = duckdb.connect()
    connection.execute(f"SET threads = {args.threads}")
    load(connection, args.events)
    sources = with_attributes(connection)
    frames = {}
    for layout, source in sources.items():
        queries = {}
        for name, breakdown in BREAKDOWNS.items():
            experiment = EXPERIMENT.model_copy(update={"breakdown": breakdown})
            sql = compile_sql(experiment, "duckdb", rows="metrics", source=source)
            queries[name] = lambda sql=sql: connection.execute(sql).df()
            frames[layout, name] = (experiment, connection.execute(sql).df())
        rounds = run_rounds(queries, args.repeat)
        base = statistics.median(r["plain"] for r in rounds)
        print(f"{layout} layout, {args.events:,} events, metric rows, {args.threads} threads:")
        for name in BREAKDOWNS:
            median = statistics.median(r[name] for r in rounds)
            ratio = statistics.median(r[name] / r["plain"] for r in rounds)
            rows = len(frames[layout, name][1])
            print(f"  query {name:<17} {median:7.3f} s  {ratio:5.2f}x plain  ({rows:,} rows)")
        del base
        for name in BREAKDOWNS:
            experiment, frame = frames[layout, name]
            started = time.perf_counter()
            evaluate(experiment, frame)
            seconds = time.perf_counter() - started
            print(f"  stats {name:<17} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
