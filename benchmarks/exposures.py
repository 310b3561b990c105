"""What the exposures-and-events layout costs on DuckDB: the same metric rows from both layouts.

Issue 11: metric rows from an exposure log and a raw events table (the query attributes the
events, :mod:`expsql.compiler.layouts.exposures`) should take at most 1.5x the time of metric rows from
the seed's attributed events table holding the same rows. The script builds, in one DuckDB
database (default 10M events, ~1M units):

- ``exposures`` (``unit_id, exp_id, variant_id, timestamp``): two experiments sharing the log;
  ~20 % of units exposed twice to the same variant, ~1.5 % also to the other variant;
- ``events`` (``unit_id, event, value, timestamp, product``): click, view, conversion and refund
  events over the same 14 days; of ``exp-1``'s, ~80 % come after their unit's first exposure,
  ~10 % before it, ~10 % are of units it never exposed;
- ``attributed``, the same data in the seed layout, derived from both: each experiment's events
  at or after the unit's first exposure and before the experiment's end, of units exposed to one
  variant, plus one ``exposure`` row per exposure of those units.

It asserts that the three queries below give the same sums (the exposures layout's
``@multiple:`` rows, the units it excludes, aside), then times them; each runs once to warm up,
then ``--repeat`` rounds in which the queries alternate. The report gives each query's median and
the median over rounds of its ratio to the attributed layout, in wall-clock and in CPU seconds
(the process's, all threads: a fairer figure on a busy machine); the target is on wall-clock:

- ``attributed``: expsql's metric rows on the attributed table (the baseline);
- ``exposures``: expsql's metric rows on the exposure log and the events (target ≤ 1.5x);
- ``growthbook``: a hand-written GrowthBook-style query (exposures → units with their first
  exposure and variant → LEFT JOIN events after it → sums per unit → per variant), for comparison;
- ``cuped``: the exposures layout's metric rows with CUPED covariates over the 14 days before each
  unit's first exposure, read in the same scan (target ≤ 1.3x ``exposures``).

Run: ``python benchmarks/exposures.py [--events 10000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import time

import duckdb
from query import run_rounds

from expsql.compiler import compile_sql
from expsql.contracts import MULTIPLE_EXPOSURES_PREFIX
from expsql.models import Experiment
from expsql.source import Source, validate_source

FIRST_DAY = dt.date(2024, 3, 1)
DAYS = 14
END = FIRST_DAY + dt.timedelta(days=DAYS)  # the day after the experiment's last day
EVENTS_PER_UNIT = 10
EXPOSURE = "count(user.global.exposure)"
METRICS = [
    ("count(user.unit.click)", EXPOSURE),
    ("count(user.unit.view)", EXPOSURE),
    ("count(user.unit.conversion)", EXPOSURE),
    ("count(user.unit.refund)", EXPOSURE),
    ("value(user.unit.conversion)", EXPOSURE),
    ("value(user.unit.conversion(product=p_1))", EXPOSURE),
]
EXPERIMENT = Experiment(
    id="exp-1",
    control_variant="a",
    unit_type="user",
    date_from=FIRST_DAY,
    date_to=END - dt.timedelta(days=1),
    metrics=[
        {"id": number, "name": f"metric {number}", "nominator": nominator, "denominator": denominator}
        for number, (nominator, denominator) in enumerate(METRICS, start=1)
    ],
)
#: The same metrics adjusted with two weeks before each unit's first exposure (issue 12: CUPED
#: metric rows at most 1.3x the plain ones on this layout).
CUPED_EXPERIMENT = EXPERIMENT.model_copy(update={"cuped_lookback_days": 14})
ATTRIBUTED_SOURCE = Source(table="attributed", dimensions={"product": "string"})
EXPOSURES_SOURCE = validate_source({"exposures": {}, "events": {"dimensions": {"product": "string"}}})

# (experiment, salt, share of units in ‰, variants, first exposures from day, over days)
EXPERIMENTS = [("exp-1", 1, 900, ("a", "b"), 0, 3), ("exp-2", 2, 500, ("a", "b", "c"), 4, 6)]


def exposure_log(
    exp_id: str, salt: int, share: int, variants: tuple[str, ...], day: int, days: int
) -> tuple[str, str]:
    """One experiment's exposures (a UNION ALL branch, and the CTE of its units it reads): each
    unit's first, ~20 % a repeat of the same variant up to two days later, ~1.5 % one of the next
    variant too."""
    names = "[" + ", ".join(f"'{v}'" for v in variants) + "]"
    return (
        f"""
    SELECT unit_id, '{exp_id}' AS exp_id, {names}[1 + v] AS variant_id,
           t0 + to_seconds(hash(k * {salt} + 5) % 172800) AS timestamp
    FROM units_{salt} WHERE hash(k * {salt} + 6) % 5 = 0
    UNION ALL
    SELECT unit_id, '{exp_id}', {names}[1 + (v + 1) % {len(variants)}],
           t0 + to_seconds(hash(k * {salt} + 7) % 172800)
    FROM units_{salt} WHERE hash(k * {salt} + 8) % 1000 < 15
    UNION ALL
    SELECT unit_id, '{exp_id}', {names}[1 + v], t0 FROM units_{salt}
    """,
        f"""
    units_{salt} AS (
      SELECT k, unit_id, (hash(k * {salt} + 2) % {len(variants)})::INT AS v,
             TIMESTAMP '{FIRST_DAY}' + to_days({day})
               + to_seconds(hash(k * {salt} + 3) % {days * 86400}) AS t0
      FROM units WHERE hash(k * {salt} + 1) % 1000 < {share})""",
    )


def load(connection: duckdb.DuckDBPyConnection, events: int) -> None:
    """The exposure log and the raw events, then the attributed table derived from them."""
    units = max(1, events // EVENTS_PER_UNIT)
    branches, ctes = zip(*(exposure_log(*experiment) for experiment in EXPERIMENTS), strict=True)
    connection.execute(
        f"""
        CREATE TABLE exposures AS
        WITH units AS (SELECT k, 'u' || k AS unit_id FROM range({units}) AS t(k)), {", ".join(ctes)}
        {" UNION ALL ".join(branches)}
        """
    )
    connection.execute(
        f"""
        CREATE TABLE events AS
        SELECT 'u' || (hash(i) % {units}) AS unit_id, goal AS event,
               CASE WHEN goal IN ('conversion', 'refund') THEN (hash(i * 3) % 10000) / 100.0 END AS value,
               TIMESTAMP '{FIRST_DAY}' + to_seconds(hash(i * 5) % {DAYS * 86400}) AS timestamp,
               'p_' || (hash(i * 7) % 10) AS product
        FROM (SELECT i, CASE WHEN hash(i * 11) % 100 < 40 THEN 'click'
                             WHEN hash(i * 11) % 100 < 80 THEN 'view'
                             WHEN hash(i * 11) % 100 < 92 THEN 'conversion'
                             ELSE 'refund' END AS goal
              FROM range(?) AS t(i))
        """,
        [events],
    )
    window = f"timestamp >= TIMESTAMP '{FIRST_DAY}' AND timestamp < TIMESTAMP '{END}'"
    connection.execute(
        f"""
        CREATE TABLE attributed AS
        WITH exposed AS (
          SELECT exp_id, unit_id, variant_id, timestamp,
                 MIN(timestamp) OVER (PARTITION BY exp_id, unit_id) AS t0,
                 MIN(variant_id) OVER (PARTITION BY exp_id, unit_id)
                   = MAX(variant_id) OVER (PARTITION BY exp_id, unit_id) AS one_variant
          FROM exposures WHERE {window}),
        units AS (SELECT DISTINCT exp_id, unit_id, variant_id, t0 FROM exposed WHERE one_variant)
        SELECT exp_id, variant_id AS exp_variant_id, 'user' AS unit_type, 'global' AS agg_type,
               'exposure' AS goal, unit_id, 1 AS cnt, NULL::DOUBLE AS value, timestamp::DATE AS date,
               NULL::VARCHAR AS product
        FROM exposed WHERE one_variant
        UNION ALL
        SELECT units.exp_id, units.variant_id, 'user', 'unit', events.event, events.unit_id, 1, events.value,
               events.timestamp::DATE, events.product
        FROM events JOIN units ON events.unit_id = units.unit_id
        WHERE events.timestamp >= units.t0 AND events.{window}
        """
    )


def growthbook() -> str:
    """GrowthBook's shape: units from the exposures, their events joined after the first exposure,
    summed per unit, then per variant; one row per variant, a column per sum of each metric."""
    goals = ("click", "view", "conversion", "refund")
    per_unit = [f"COUNT(CASE WHEN m.event = '{goal}' THEN 1 END) AS {goal}_count" for goal in goals]
    per_unit += [
        "COALESCE(SUM(CASE WHEN m.event = 'conversion' THEN m.value END), 0) AS conversion_value",
        "COALESCE(SUM(CASE WHEN m.event = 'conversion' AND m.product = 'p_1' THEN m.value END), 0) "
        "AS p_1_value",
    ]
    mains = [f"{goal}_count" for goal in goals] + ["conversion_value", "p_1_value"]
    sums = ",\n".join(
        f"SUM({x}) AS m{i}_sum_x, SUM({x} * {x}) AS m{i}_sum_x2, SUM(exposures) AS m{i}_sum_y, "
        f"SUM(exposures * exposures) AS m{i}_sum_y2, SUM({x} * exposures) AS m{i}_sum_xy"
        for i, x in enumerate(mains, start=1)
    )
    return f"""
    WITH experiment_exposures AS (
      SELECT unit_id, variant_id, timestamp FROM exposures
      WHERE exp_id = '{EXPERIMENT.id}'
        AND timestamp >= TIMESTAMP '{FIRST_DAY}' AND timestamp < TIMESTAMP '{END}'),
    experiment_units AS (
      SELECT unit_id,
             CASE WHEN COUNT(DISTINCT variant_id) > 1 THEN '__multiple__' ELSE MAX(variant_id) END AS variant,
             MIN(timestamp) AS first_exposure, COUNT(*)::DOUBLE AS exposures
      FROM experiment_exposures GROUP BY unit_id),
    unit_metrics AS (
      SELECT u.variant, u.unit_id, u.exposures, {", ".join(per_unit)}
      FROM experiment_units AS u
      LEFT JOIN events AS m ON m.unit_id = u.unit_id AND m.timestamp >= u.first_exposure
        AND m.timestamp < TIMESTAMP '{END}' AND m.event IN ({", ".join(f"'{goal}'" for goal in goals)})
      WHERE u.variant <> '__multiple__'
      GROUP BY u.variant, u.unit_id, u.exposures)
    SELECT variant, COUNT(*) AS n, {sums}
    FROM unit_metrics GROUP BY variant
    """


def metric_sums(rows: list[tuple]) -> dict[tuple[str, str], tuple[float, ...]]:
    """Compiled metric rows as ``(variant, metric id) → (n, sum_x, ...)``, the excluded units aside."""
    return {
        (variant, str(metric)): tuple(float(v) for v in values)
        for _, variant, metric, *values in rows
        if not variant.startswith(MULTIPLE_EXPOSURES_PREFIX)
    }


def growthbook_sums(rows: list[tuple]) -> dict[tuple[str, str], tuple[float, ...]]:
    """The hand-written query's wide rows in the same shape."""
    return {
        (variant, str(metric)): (float(n), *(float(v) for v in sums[5 * (metric - 1) : 5 * metric]))
        for variant, n, *sums in rows
        for metric in range(1, len(METRICS) + 1)
    }


def assert_same(expected: dict, actual: dict, what: str) -> None:
    assert set(expected) == set(actual), f"{what}: rows {sorted(actual)}, expected {sorted(expected)}"
    for key, values in expected.items():
        same = all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) for a, b in zip(values, actual[key], strict=True)
        )
        assert same, f"{what}: {key} gives {actual[key]}, the attributed layout {values}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET threads = {int(arguments.threads)}")
    start = time.perf_counter()
    load(connection, arguments.events)
    (exposures,), (attributed,) = (
        connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone() for t in ("exposures", "attributed")
    )
    print(
        f"loaded {arguments.events:,} events, {exposures:,} exposures and {attributed:,} attributed rows "
        f"in {time.perf_counter() - start:.1f} s"
    )

    queries = {
        "attributed": compile_sql(EXPERIMENT, "duckdb", rows="metrics", source=ATTRIBUTED_SOURCE),
        "exposures": compile_sql(EXPERIMENT, "duckdb", rows="metrics", source=EXPOSURES_SOURCE),
        "growthbook": growthbook(),
        "cuped": compile_sql(CUPED_EXPERIMENT, "duckdb", rows="metrics", source=EXPOSURES_SOURCE),
    }
    results = {name: connection.execute(sql).fetchall() for name, sql in queries.items()}
    expected = {k: v for k, v in metric_sums(results["attributed"]).items() if k[1] != "@exposure"}
    assert_same(metric_sums(results["attributed"]), metric_sums(results["exposures"]), "exposures layout")
    assert_same(expected, growthbook_sums(results["growthbook"]), "growthbook query")
    excluded = sum(1 for row in results["exposures"] if row[1].startswith(MULTIPLE_EXPOSURES_PREFIX))
    print(
        f"same sums from all three ({len(expected)} variant × metric rows; {excluded} @multiple rows aside)"
    )

    cpu: dict[str, list[float]] = {name: [] for name in queries}

    def run(name: str, sql: str) -> None:
        start = time.process_time()
        connection.execute(sql).fetchall()
        cpu[name].append(time.process_time() - start)

    rounds = run_rounds(
        {name: lambda n=name, s=sql: run(n, s) for name, sql in queries.items()}, arguments.repeat
    )
    for name, seconds in cpu.items():  # CPU seconds per round, without the warm-up
        for times, cpu_seconds in zip(rounds, seconds[-arguments.repeat :], strict=True):
            times[f"{name} cpu"] = cpu_seconds
    print(
        f"\nDuckDB, {arguments.events:,} events, {arguments.threads} threads, "
        f"median of {arguments.repeat} rounds (CPU: all threads, fairer on a busy machine)"
    )
    print(f"  {'':<12} {'wall':>9}  {'ratio':>5}  {'cpu':>9}  {'ratio':>5}")
    for name in queries:
        line = f"  {name:<12}"
        for key, base in ((name, "attributed"), (f"{name} cpu", "attributed cpu")):
            seconds = statistics.median(r[key] for r in rounds)
            ratio = statistics.median(r[key] / r[base] for r in rounds)
            line += f" {seconds:7.3f} s  {ratio:4.2f}x"
        print(line)
    ratio = statistics.median(r["exposures"] / r["attributed"] for r in rounds)
    print(
        f"exposures / attributed (wall): {ratio:.2f}x; target ≤ 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}"
    )
    cuped = statistics.median(r["cuped"] / r["exposures"] for r in rounds)
    cuped_cpu = statistics.median(r["cuped cpu"] / r["exposures cpu"] for r in rounds)
    print(
        f"CUPED / plain on the exposures layout: {cuped:.2f}x wall, {cuped_cpu:.2f}x CPU; "
        f"target ≤ 1.3x: {'met' if cuped <= 1.3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
