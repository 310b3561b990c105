"""The long unit × term shape, the one issue 14 pointed to, against the compiled metric rows.

The compiled metric rows keep one group per unit with a sum per goal term side by side, so their
per-unit state grows with the number of terms (``query.py`` measures what that costs). The long
shape keeps one row per unit and term instead, whatever the number of terms:

1. the distinct (``agg_type``, ``goal``, ``product``, ``price``) keys of the experiment's events,
   and for each the terms it belongs to (a few hundred rows, each term's filter tested there);
2. the events joined to those keys: per unit and term, the count and the value;
3. per metric, its nominator's and denominator's per-unit values joined on the unit, and the
   per-variant sums of the metric-rows contract.

The query is written by hand for ``query.py``'s terms (``goal_terms``, ``many_metrics``) and
checked to give the compiled query's rows before it is timed: both run once, then ``--repeat``
rounds alternate them (:func:`query.run_rounds`).

Run: ``python benchmarks/long_shape.py [--events 5000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import re
import statistics

import duckdb
import numpy as np
from query import SOURCE, experiment, generate_events, goal_terms, many_metrics, run_rounds

from expsql.compiler import compile_sql

CASES = {"20 metrics over 20 terms": (20, 20), "200 metrics over 100 terms": (200, 100)}
TERM = re.compile(r"user\.(?P<agg>\w+)\.(?P<goal>\w+)(?:\((?P<filters>.*)\))?$")
FILTER = re.compile(r"(?P<column>\w+)(?P<op>>=|<=|!=|=|>|<)(?P<value>.*)$")
CALL = re.compile(r"(?P<function>count|value|unique)\((?P<term>.*)\)$")
PER_UNIT = {"count": "u.c", "value": "u.v", "unique": "CASE WHEN u.c > 0 THEN 1.0 ELSE 0.0 END"}


def term_condition(term: str) -> str:
    """The SQL test of a benchmark term (``user.unit.click(product=^p_, price>3)``) on a key row."""
    match = TERM.match(term)
    assert match is not None, term
    tests = [f"agg_type = '{match['agg']}'", f"goal = '{match['goal']}'"]
    for part in filter(None, (match["filters"] or "").split(", ")):
        found = FILTER.match(part)
        assert found is not None, part
        column, op, value = found["column"], found["op"], found["value"]
        if column == "price":
            tests.append(f"price {op} {int(value)}")
        elif value.startswith("^"):
            tests.append(f"starts_with(product, '{value[1:]}')")
        else:
            tests.append(f"product {op} '{value}'")
    return " AND ".join(tests)


def long_shape_sql(metrics: int, terms: int) -> str:
    names = goal_terms(terms)
    index = {name: number for number, name in enumerate(names)}
    term_keys = "\n    UNION ALL ".join(
        f"SELECT agg_type, goal, product, price, {number} AS term FROM keys WHERE {term_condition(name)}"
        for number, name in enumerate(names)
    )

    def call(expression: str) -> tuple[str, int]:
        match = CALL.match(expression)
        assert match is not None, expression
        return match["function"], index[match["term"]]

    sides = {"x": [], "y": []}
    for metric, (nominator, denominator) in enumerate(many_metrics(metrics, terms), start=1):
        for side, expression in (("x", nominator), ("y", denominator)):
            function, term = call(expression)
            sides[side].append(f"SELECT {metric} AS metric_id, {term} AS term, '{function}' AS function")
    per_unit = "CASE m.function " + " ".join(f"WHEN '{f}' THEN {sql}" for f, sql in PER_UNIT.items()) + " END"
    return f"""
WITH scan AS (
    SELECT exp_variant_id AS variant_id, unit_id, agg_type, goal, product, price,
           CAST(COALESCE(cnt, 0) AS DOUBLE) AS cnt, CAST(COALESCE(value, 0) AS DOUBLE) AS value
    FROM events WHERE exp_id = 'exp-1' AND unit_type = 'user'
), keys AS (SELECT DISTINCT agg_type, goal, product, price FROM scan
), term_keys AS (
    {term_keys}
), unit_terms AS (
    SELECT variant_id, unit_id, term, SUM(cnt) AS c, SUM(value) AS v
    FROM scan JOIN term_keys USING (agg_type, goal, product, price)
    GROUP BY variant_id, unit_id, term
), exposed AS (SELECT variant_id, unit_id FROM unit_terms WHERE term = 0
), x_terms AS ({" UNION ALL ".join(sides["x"])}
), y_terms AS ({" UNION ALL ".join(sides["y"])}
), x_values AS (
    SELECT u.variant_id, u.unit_id, m.metric_id, {per_unit} AS x
    FROM unit_terms AS u JOIN x_terms AS m ON u.term = m.term JOIN exposed USING (variant_id, unit_id)
), y_values AS (
    SELECT u.variant_id, u.unit_id, m.metric_id, {per_unit} AS y
    FROM unit_terms AS u JOIN y_terms AS m ON u.term = m.term JOIN exposed USING (variant_id, unit_id)
), x_sums AS (SELECT variant_id, metric_id, SUM(x) AS sum_x, SUM(x * x) AS sum_x2 FROM x_values GROUP BY ALL
), y_sums AS (SELECT variant_id, metric_id, SUM(y) AS sum_y, SUM(y * y) AS sum_y2 FROM y_values GROUP BY ALL
), xy_sums AS (
    SELECT variant_id, metric_id, SUM(x * y) AS sum_xy
    FROM x_values JOIN y_values USING (variant_id, unit_id, metric_id) GROUP BY ALL
), units AS (SELECT variant_id, COUNT(*) AS n FROM exposed GROUP BY ALL)
SELECT variant_id AS exp_variant_id, metric_id, n,
       COALESCE(sum_x, 0) AS sum_x, COALESCE(sum_x2, 0) AS sum_x2, COALESCE(sum_y, 0) AS sum_y,
       COALESCE(sum_y2, 0) AS sum_y2, COALESCE(sum_xy, 0) AS sum_xy
FROM units
CROSS JOIN (SELECT metric_id FROM x_terms) AS metrics
LEFT JOIN x_sums USING (variant_id, metric_id)
LEFT JOIN y_sums USING (variant_id, metric_id)
LEFT JOIN xy_sums USING (variant_id, metric_id)
"""


COLUMNS = ["n", "sum_x", "sum_x2", "sum_y", "sum_y2", "sum_xy"]


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> np.ndarray:
    """The metrics' rows in order (the compiled query's ``@`` rows, for the checks, left out)."""
    frame = connection.execute(sql).df()
    frame = frame[~frame["metric_id"].astype(str).str.startswith("@")]
    frame = frame.assign(metric_id=frame["metric_id"].astype(int)).sort_values(
        ["exp_variant_id", "metric_id"]
    )
    return frame[COLUMNS].to_numpy(dtype=float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET threads = {int(arguments.threads)}")
    connection.from_arrow(generate_events(arguments.events)).create("events")
    print(f"DuckDB, {arguments.events:,} events, {arguments.threads} threads")
    for case, (metrics, terms) in CASES.items():
        compiled = compile_sql(
            experiment(many_metrics(metrics, terms)), "duckdb", rows="metrics", source=SOURCE
        )
        long = long_shape_sql(metrics, terms)
        np.testing.assert_allclose(rows(connection, long), rows(connection, compiled), rtol=1e-9)
        queries = {"compiled": compiled, "long": long}
        runs = {name: lambda sql=sql: connection.execute(sql).fetchall() for name, sql in queries.items()}
        rounds = run_rounds(runs, arguments.repeat)
        medians = {name: statistics.median(r[name] for r in rounds) for name in queries}
        ratio = statistics.median(r["long"] / r["compiled"] for r in rounds)
        times = f"compiled metric rows {medians['compiled']:.2f} s, long shape {medians['long']:.2f} s"
        print(f"  {case}: {times} (long / compiled {ratio:.2f}; the rows agree to 1e-9)")


if __name__ == "__main__":
    main()
