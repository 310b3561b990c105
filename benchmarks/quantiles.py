"""What quantile metrics cost on DuckDB: 10 metrics of which 2 are quantiles against the same 8 alone.

The events table of ``shape.py`` (default 10M events, ~1M units; values on every event); eight
ratio and mean metrics over its five goals, then the same eight plus a unit median of revenue per
user and an event p90 of conversion values (``quantile_of: event``: the events ranked, then read
again for the per-unit counts at or below the estimate). Both are metric rows, one statement each.
Prints the best-of-``--repeat`` time of each query and the ratio (target ≤ 1.5×).

Run: ``python benchmarks/quantiles.py [--events 10000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

import time

from shape import loaded_database

from expsql.compiler import compile_sql
from expsql.models import Experiment
from expsql.source import Source

EXPOSURES = "count(user.global.exposure)"
EIGHT = [
    ("count(user.unit.click)", EXPOSURES),
    ("count(user.unit.view)", EXPOSURES),
    ("value(user.unit.conversion)", EXPOSURES),
    ("value(user.unit.refund)", EXPOSURES),
    ("count(user.unit.click)", "count(user.unit.view)"),
    ("unique(user.unit.conversion)", EXPOSURES),
    ("value(user.unit.conversion) - value(user.unit.refund)", EXPOSURES),
    ("value(user.unit.conversion(product=p_1))", "count(user.unit.view)"),
]
QUANTILES = [
    {"nominator": "value(user.unit.conversion)", "quantile": 0.5},
    {"nominator": "value(user.unit.conversion)", "quantile": 0.9, "quantile_of": "event"},
]


def experiment(*, quantiles: bool) -> Experiment:
    metrics: list[dict[str, object]] = [
        {"id": i, "name": f"metric {i}", "nominator": n, "denominator": d} for i, (n, d) in enumerate(EIGHT)
    ]
    if quantiles:
        metrics += [{"id": 8 + i, "name": f"quantile {i}", **q} for i, q in enumerate(QUANTILES)]
    return Experiment(id="exp-1", control_variant="a", unit_type="user", metrics=metrics)


def main() -> None:
    arguments, connection = loaded_database(__doc__)
    source = Source(dimensions={"product": "string"})
    queries = {
        "8 metrics": compile_sql(experiment(quantiles=False), rows="metrics", source=source),
        "10 metrics, 2 quantiles": compile_sql(experiment(quantiles=True), rows="metrics", source=source),
    }
    best = dict.fromkeys(queries, float("inf"))
    for _ in range(arguments.repeat):  # round-robin: a busy machine slows every query alike
        for name, sql in queries.items():
            start = time.perf_counter()
            connection.execute(sql).fetchall()
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        print(f"{name:26s} {seconds:6.2f} s")
    plain, with_quantiles = best.values()
    ratio = with_quantiles / plain
    print(f"ratio {ratio:.2f}x (target ≤ 1.5x) {'ok' if ratio <= 1.5 else 'OVER'}")


if __name__ == "__main__":
    main()
