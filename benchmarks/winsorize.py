"""What outlier caps cost on DuckDB: the metric-rows query with and without winsorized metrics.

The events table of ``shape.py`` (default 10M events, 1M units); the three metrics of its
``PLAIN`` experiment, then the same metrics capped at the 99th percentile (and the first also at
the 1st); and ten metrics on one nominator, uncapped and capped at ten different percentiles.
Prints the best-of-``--repeat`` time of each query and the ratio capped / uncapped.

Run: ``python benchmarks/winsorize.py [--events 10000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

import time

from shape import PLAIN, loaded_database

from expsql.compiler import compile_sql
from expsql.models import Experiment
from expsql.source import Source


def capped(experiment: Experiment, upper: float, lower: float | None) -> Experiment:
    metrics = [
        m.model_dump()
        | {"outlier_upper_percentile": upper, "outlier_lower_percentile": lower if i == 0 else None}
        for i, m in enumerate(experiment.metrics)
    ]
    return Experiment.model_validate(experiment.model_dump() | {"metrics": metrics})


def many_caps(experiment: Experiment, count: int, *, caps: bool) -> Experiment:
    first = experiment.metrics[1].model_dump()
    metrics = [first | {"id": i, "outlier_upper_percentile": 0.5 + i if caps else None} for i in range(count)]
    return Experiment.model_validate(experiment.model_dump() | {"metrics": metrics})


def main() -> None:
    arguments, connection = loaded_database(__doc__)
    source = Source(dimensions={"product": "string"})
    pairs = {  # name → (uncapped, capped)
        "three metrics": (PLAIN, capped(PLAIN, 1, 1)),
        "ten caps of one x": (many_caps(PLAIN, 10, caps=False), many_caps(PLAIN, 10, caps=True)),
    }
    queries = {
        (name, kind): compile_sql(definition, rows="metrics", source=source)
        for name, definitions in pairs.items()
        for kind, definition in zip(("uncapped", "capped"), definitions, strict=True)
    }
    best = dict.fromkeys(queries, float("inf"))
    for _ in range(arguments.repeat):  # round-robin: a busy machine slows every query alike
        for name, sql in queries.items():
            start = time.perf_counter()
            connection.execute(sql).fetchall()
            best[name] = min(best[name], time.perf_counter() - start)
    for name in pairs:
        plain, clipped = best[name, "uncapped"], best[name, "capped"]
        print(f"{name:18s} uncapped {plain:6.2f} s  capped {clipped:6.2f} s  {clipped / plain:5.2f}x")


if __name__ == "__main__":
    main()
