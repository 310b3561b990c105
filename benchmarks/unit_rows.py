"""How long unit rows take to evaluate, against the metric rows they reduce to.

Seeded unit rows: ``--units`` users in three variants, each with an exposure row and a click,
view, conversion and refund row, conversions also broken down by two ``product`` labels (rows of
one unit and term split in two, as a warehouse may return them) — about 1.3 M rows for 200,000
units. Ten metrics read them (plain, ratio, dimensional, compound, unique, one winsorized) plus an
SRM check. The script times ``expsql.evaluate`` on the unit rows (load, recognise, validate,
per-unit evaluation, statistics) and on the metric rows those unit rows reduce to, best of
``--repeat``, and prints both with their ratio. The CPU time of the unit-rows evaluation is
printed too: a fairer figure on a busy machine.

Run: ``python benchmarks/unit_rows.py [--units 200000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from expsql.contracts import UNIT_KEYS, UNIT_VALUES
from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.stats.metric_rows import MetricSums
from expsql.stats.rows import variant_order
from expsql.stats.unit_rows import sum_unit_rows, validate_unit_rows

EXPOSURE = "count(user.global.exposure)"
METRICS = [
    ("count(user.unit.click)", EXPOSURE),
    ("value(user.unit.conversion)", EXPOSURE),
    ("count(user.unit.click)", "count(user.unit.view)"),
    ("value(user.unit.conversion(product=p_1))", "unique(user.unit.view)"),
    ("value(user.unit.conversion) - value(user.unit.refund)", EXPOSURE),
    ("unique(user.unit.conversion) ~ unique(user.unit.refund)", EXPOSURE),
    ("value(user.unit.conversion) / count(user.unit.conversion)", "unique(user.unit.conversion)"),
    ("count(user.unit.conversion(product=p_2)) * 2", "count(user.unit.view) + 1"),
    ("count(user.unit.view)", EXPOSURE),
    ("value(user.unit.conversion)", EXPOSURE),
]


def experiment() -> Experiment:
    metrics = [
        {"id": i, "name": f"metric {i}", "nominator": n, "denominator": d}
        for i, (n, d) in enumerate(METRICS, start=1)
    ]
    metrics[-1]["outlier_upper_percentile"] = 1
    return Experiment.model_validate(
        {
            "id": "bench",
            "control_variant": "a",
            "unit_type": "user",
            "metrics": metrics,
            "checks": [{"id": 1, "name": "SRM", "denominator": EXPOSURE}],
        }
    )


def unit_rows(units: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit_ids = np.array([f"u{i}" for i in range(units)], dtype=object)
    variants = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, units)]
    terms = [
        ("global", "exposure", "", 1.0, 0.0),
        ("unit", "click", "", 3.0, 0.0),
        ("unit", "view", "", 5.0, 0.0),
        ("unit", "conversion", "", 0.3, 40.0),
        ("unit", "conversion", "p_1", 0.2, 30.0),
        ("unit", "conversion", "p_2", 0.1, 20.0),
        ("unit", "refund", "", 0.05, 25.0),
    ]
    parts = []
    for agg_type, goal, product, rate, mean_value in terms:
        count = np.ones(units) if goal == "exposure" else rng.poisson(rate, units).astype(float)
        value = count * rng.gamma(2.0, mean_value / 2, units) if mean_value else np.zeros(units)
        parts.append(
            pd.DataFrame(
                {
                    "exp_id": "bench",
                    "exp_variant_id": variants,
                    "unit_type": "user",
                    "agg_type": agg_type,
                    "goal": goal,
                    "unit_id": unit_ids,
                    "product": product,
                    "count": count,
                    "sum_value": value,
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[(rows["count"] > 0) | (rows["goal"] == "exposure")]
    split = rows.sample(frac=0.25, random_state=seed).assign(count=0.0, sum_value=1.0)
    rows = pd.concat([rows, split], ignore_index=True)
    return rows[[*UNIT_KEYS, "product", *UNIT_VALUES]]


def metric_rows(sums: MetricSums) -> pd.DataFrame:
    records = [
        {"exp_id": "bench", "exp_variant_id": variant, "metric_id": row_id}
        | dict(zip(("n", "sum_x", "sum_x2", "sum_y", "sum_y2", "sum_xy"), sums.sums[i, v], strict=True))
        for row_id, i in sums.row_ids.items()
        for v, variant in enumerate(sums.variants)
    ]
    return pd.DataFrame.from_records(records)


def best(function, repeat: int) -> tuple[float, float]:
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    definition = experiment()
    rows = unit_rows(arguments.units)
    clean = validate_unit_rows(rows, definition, ["product"])
    variants = variant_order(definition, clean["exp_variant_id"])
    reduced = metric_rows(sum_unit_rows(clean, definition, variants, definition.goal_keys()))
    units_wall, units_cpu = best(lambda: evaluate(definition, rows), arguments.repeat)
    metrics_wall, _ = best(lambda: evaluate(definition, reduced), arguments.repeat)
    print(f"unit rows: {len(rows):,} rows, {arguments.units:,} units, {len(METRICS)} metrics")
    print(f"evaluate(unit rows)   {units_wall:8.3f} s  (cpu {units_cpu:.3f} s)")
    print(f"evaluate(metric rows) {metrics_wall:8.3f} s")
    print(f"ratio                 {units_wall / metrics_wall:8.1f}")


if __name__ == "__main__":
    main()
