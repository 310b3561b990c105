"""Which query shape is fastest on DuckDB: the seed's query against expsql's compiled queries.

DESIGN.md, "Compiler shape": the seed's goal-rows query (group by unit × goal) is the bar. This
script builds an events table in DuckDB (default 10M events, 5 goals, 2 variants, 1M units) and
times each, best of ``--repeat`` rounds over all queries:

- ``seed``: the integration guide's query, grouped by the raw goal columns;
- ``goals``: expsql's goal rows for the same five goals (one term index per event);
- ``goals-overlap``: goal rows with two overlapping dimension filters (events repeated per layer);
- ``metrics``: expsql's metric rows for metrics over the five goals;
- ``metrics-direct``: the alternative metric shape, one group per unit with conditional
  aggregates straight from the scan (no unit × term step) — written here only to compare.

Run: ``python benchmarks/shape.py [--events 10000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time

import duckdb
from query import HAND_WRITTEN_GOAL_ROWS

from expsql.compiler import compile_sql
from expsql.models import Experiment
from expsql.source import Source

GOALS = ("exposure", "click", "view", "conversion", "refund")

# The seed query is the one benchmarks/query.py measures (a sibling script, so importable by name).
SEED = HAND_WRITTEN_GOAL_ROWS


def load(connection: duckdb.DuckDBPyConnection, events: int) -> None:
    """Random events: 2 experiments, 2 variants, 1 unit per 10 events, 5 goals, a product column."""
    connection.execute(
        """
        CREATE TABLE events AS
        SELECT
            CASE WHEN i % 5 = 0 THEN 'exp-2' ELSE 'exp-1' END AS exp_id,
            CASE WHEN hash(i // 10) % 2 = 0 THEN 'a' ELSE 'b' END AS exp_variant_id,
            'user' AS unit_type,
            CASE WHEN i % 10 = 0 THEN 'global' ELSE 'unit' END AS agg_type,
            CASE WHEN i % 10 = 0 THEN 'exposure'
                 ELSE ['click', 'view', 'conversion', 'refund'][1 + (hash(i) % 4)::INT] END AS goal,
            'u' || (i // 10 + (hash(i) % 3)::BIGINT) AS unit_id,
            (1 + hash(i * 7) % 3)::BIGINT AS cnt,
            (hash(i * 13) % 10000) / 100.0 AS value,
            DATE '2024-03-01' + (hash(i * 17) % 14)::INT AS date,
            'p_' || (hash(i * 19) % 10)::VARCHAR AS product
        FROM range(?) AS t(i)
        """,
        [events],
    )


def experiment(*metrics: tuple[str, str]) -> Experiment:
    return Experiment(
        id="exp-1",
        control_variant="a",
        unit_type="user",
        metrics=[
            {"id": i, "name": str(i), "nominator": n, "denominator": d} for i, (n, d) in enumerate(metrics)
        ],
    )


PLAIN = experiment(
    ("count(user.unit.click)", "count(user.global.exposure)"),
    ("value(user.unit.conversion)", "count(user.unit.view)"),
    ("value(user.unit.conversion) - value(user.unit.refund)", "count(user.global.exposure)"),
)
OVERLAP = experiment(
    ("count(user.unit.click(product=p_1))", "count(user.unit.click)"),
    ("value(user.unit.conversion(product=^p_))", "count(user.global.exposure)"),
)


def metrics_direct() -> str:
    """One group per unit, conditional aggregates on the raw events (the shape DESIGN.md warns of)."""
    sums = ",\n".join(
        f"SUM(CASE WHEN agg_type = '{a}' AND goal = '{g}' THEN cnt END) AS c_{g}, "
        f"SUM(CASE WHEN agg_type = '{a}' AND goal = '{g}' THEN value END) AS v_{g}"
        for g, a in zip(GOALS, ("global", "unit", "unit", "unit", "unit"), strict=True)
    )
    return f"""
    WITH u AS (
      SELECT exp_variant_id, unit_id, {sums}
      FROM events WHERE exp_id = 'exp-1' AND unit_type = 'user' GROUP BY exp_variant_id, unit_id
      HAVING COUNT(CASE WHEN goal = 'exposure' THEN 1 END) > 0),
    m AS (SELECT exp_variant_id, COALESCE(c_click, 0)::DOUBLE AS x0, COALESCE(c_exposure, 0)::DOUBLE AS y0,
                 COALESCE(v_conversion, 0)::DOUBLE AS x1, COALESCE(c_view, 0)::DOUBLE AS y1,
                 (COALESCE(v_conversion, 0) - COALESCE(v_refund, 0))::DOUBLE AS x2 FROM u)
    SELECT exp_variant_id, COUNT(*), SUM(x0), SUM(x0*x0), SUM(y0), SUM(y0*y0), SUM(x0*y0),
           SUM(x1), SUM(x1*x1), SUM(y1), SUM(y1*y1), SUM(x1*y1), SUM(x2), SUM(x2*x2), SUM(x2*y0)
    FROM m GROUP BY exp_variant_id
    """


def best_of(connection: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        connection.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    return min(times)


def loaded_database(description: str) -> tuple[argparse.Namespace, duckdb.DuckDBPyConnection]:
    """The DuckDB benchmarks' options (``--events``, ``--threads``, ``--repeat``) and a database
    holding that many generated events."""
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET threads = {int(arguments.threads)}")
    start = time.perf_counter()
    load(connection, arguments.events)
    print(f"loaded {arguments.events:,} events in {time.perf_counter() - start:.1f} s")
    return arguments, connection


def main() -> None:
    arguments, connection = loaded_database(__doc__)
    source = Source(dimensions={"product": "string"})
    queries = {
        "seed": SEED,
        "goals": compile_sql(PLAIN, rows="goals", source=source),
        "goals-overlap": compile_sql(OVERLAP, rows="goals", source=source),
        "metrics": compile_sql(PLAIN, rows="metrics", source=source),
        "metrics-overlap": compile_sql(OVERLAP, rows="metrics", source=source),
        "metrics-direct": metrics_direct(),
    }
    # Round-robin, best of the rounds: a busy machine slows every query alike, not only one.
    best = dict.fromkeys(queries, float("inf"))
    for _ in range(arguments.repeat):
        for name, sql in queries.items():
            best[name] = min(best[name], best_of(connection, sql, 1))
    for name, seconds in best.items():
        print(f"{name:16s} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
