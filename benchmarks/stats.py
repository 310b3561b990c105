"""expsql's stats against ep-stats on the same goal rows: time and largest differences.

For 10, 100 and 1000 metrics × 3 variants (control ``a``) this script builds seeded goal rows — a
value metric per goal over exposures, every fifth a click-through ratio with a dimension filter,
all with a minimum effect so that required sample size and power are computed — and evaluates
them with ``expsql.evaluate`` here and with ep-stats' ``Experiment.evaluate_agg`` in a separate
virtual environment (``benchmarks/.venv-epstats``, created on first run with ``pip install ep-stats
pytz``, because ep-stats pins its own pandas/numpy). Both sides get the parsed experiment ready
beforehand; the timings cover the evaluation of the rows into result frames (best of
``--repeat``; ep-stats once at 1000 metrics, it takes tens of seconds). Then it prints both times,
the ratio, and the largest absolute differences of mean, diff, p-value, confidence interval,
required sample size and power.

Run: ``python benchmarks/stats.py [--sizes 10 100 1000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np
import pandas as pd

from expsql.models import Experiment
from expsql.stats import evaluate

HERE = Path(__file__).resolve().parent
EP_STATS_VENV = HERE / ".venv-epstats"
VARIANTS = ("a", "b", "c")
UNITS = 20_000  # exposed units per variant
COMPARED = ("mean", "diff", "p_value", "confidence_interval", "required_sample_size", "power")

# Runs inside ep-stats' environment: read the experiment and the rows, time evaluate_agg, write metrics.
EP_STATS_RUNNER = """
import json, sys, time
import pandas as pd
from epstats.toolkit import Experiment, Metric, SrmCheck

definition = json.load(open(sys.argv[1]))
goals = pd.read_csv(sys.argv[2], dtype={"product": str}, keep_default_na=False)
metrics = [Metric(m["id"], m["name"], m["nominator"], m["denominator"], minimum_effect=m["minimum_effect"])
           for m in definition["metrics"]]
checks = [SrmCheck(c["id"], c["name"], c["denominator"]) for c in definition["checks"]]
experiment = Experiment(definition["id"], definition["control_variant"], metrics, checks,
                        unit_type=definition["unit_type"], variants=definition["variants"])
best = float("inf")
for _ in range(int(sys.argv[4])):
    start = time.perf_counter()
    evaluation = experiment.evaluate_agg(goals)
    best = min(best, time.perf_counter() - start)
evaluation.metrics.to_csv(sys.argv[3], index=False)
print(json.dumps({"seconds": best}))
"""


def ep_stats_python() -> Path:
    """The ep-stats environment's interpreter, creating the environment when it is missing."""
    python = EP_STATS_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {EP_STATS_VENV} with ep-stats (once)", file=sys.stderr)
        venv.create(EP_STATS_VENV, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "ep-stats", "pytz"], check=True)
    return python


def definition(metrics: int) -> dict[str, object]:
    exposures = "count(user.global.exposure)"
    items = []
    for i in range(metrics):
        if i % 5 == 4:
            nominator, denominator = f"count(user.unit.click{i}(product=p_1))", f"count(user.unit.view{i})"
        else:
            nominator, denominator = f"value(user.unit.goal{i})", exposures
        items.append(
            {"id": i + 1, "name": f"metric {i + 1}", "nominator": nominator, "denominator": denominator,
             "minimum_effect": 0.05}
        )  # fmt: skip
    return {
        "id": "bench",
        "control_variant": "a",
        "unit_type": "user",
        "variants": list(VARIANTS),
        "metrics": items,
        "checks": [{"id": 1, "name": "SRM", "type": "SRM", "denominator": exposures}],
    }


def goal_rows(metrics: int, seed: int = 7) -> pd.DataFrame:
    """Goal rows as a warehouse returns them: per-unit sums first, squares after."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant in VARIANTS:
        rows.append(_row(variant, "global", "exposure", "", np.ones(UNITS)))
    for i in range(metrics):
        for variant in VARIANTS:
            lift = 1.0 + 0.03 * (variant == "b") * (i % 3 == 0)
            if i % 5 == 4:
                views = rng.poisson(3.0, size=UNITS)
                clicks = rng.binomial(views, 0.1 * lift)
                rows.append(_row(variant, "unit", f"view{i}", "", views))
                rows.append(_row(variant, "unit", f"click{i}", "p_1", clicks))
            else:
                bought = rng.random(UNITS) < 0.05 * lift
                rows.append(_row(variant, "unit", f"goal{i}", "", bought * rng.gamma(2.0, 25.0, UNITS)))
    return pd.DataFrame(rows)


def _row(variant: str, agg_type: str, goal: str, product: str, per_unit: np.ndarray) -> dict[str, object]:
    counts = (per_unit > 0).astype(float) if goal.startswith("goal") else per_unit.astype(float)
    return {
        "exp_id": "bench", "exp_variant_id": variant, "unit_type": "user", "agg_type": agg_type, "goal": goal,
        "product": product, "count": counts.sum(), "sum_sqr_count": (counts**2).sum(),
        "sum_value": per_unit.sum(), "sum_sqr_value": (per_unit**2).sum(), "count_unique": (counts > 0).sum(),
    }  # fmt: skip


def time_expsql(experiment: Experiment, rows: pd.DataFrame, repeat: int) -> tuple[float, pd.DataFrame]:
    best, metrics = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        metrics = evaluate(experiment, rows).metrics
        best = min(best, time.perf_counter() - start)
    return best, metrics


def time_ep_stats(spec: dict[str, object], rows: pd.DataFrame, repeat: int) -> tuple[float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "experiment.json").write_text(json.dumps(spec))
        rows.to_csv(work / "goals.csv", index=False)
        (work / "runner.py").write_text(EP_STATS_RUNNER)
        answer = subprocess.run(
            [ep_stats_python(), work / "runner.py", work / "experiment.json", work / "goals.csv",
             work / "metrics.csv", str(repeat)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = json.loads(answer.stdout.strip().splitlines()[-1])["seconds"]
        return seconds, pd.read_csv(work / "metrics.csv")


def largest_differences(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, float]:
    keys = ["metric_id", "exp_variant_id"]
    joined = ours.assign(metric_id=ours["metric_id"].astype(int)).merge(
        theirs, on=keys, suffixes=("", "_ep"), validate="one_to_one"
    )
    if len(joined) != len(ours):
        raise SystemExit("the two scorecards do not have the same rows")
    differences = {}
    for column in COMPARED:
        a = joined[column].to_numpy(float)
        b = joined[f"{column}_ep"].to_numpy(float)
        same_nan = np.isnan(a) & np.isnan(b)
        if (np.isnan(a) != np.isnan(b)).any():
            differences[column] = float("nan")  # one side NaN where the other is not
            continue
        differences[column] = float(np.max(np.abs(a - b)[~same_nan], initial=0.0))
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    header = f"{'metrics':>7}  {'expsql':>9}  {'ep-stats':>9}  {'ratio':>7}  largest |expsql − ep-stats|"
    print(header)
    for size in options.sizes:
        spec = definition(size)
        experiment = Experiment.model_validate(spec)
        rows = goal_rows(size)
        ours_seconds, ours = time_expsql(experiment, rows, options.repeat)
        theirs_seconds, theirs = time_ep_stats(spec, rows, 1 if size >= 1000 else options.repeat)
        differences = largest_differences(ours, theirs)
        shown = ", ".join(f"{name} {value:.1e}" for name, value in differences.items())
        print(
            f"{size:>7}  {ours_seconds * 1000:>7.1f}ms  {theirs_seconds:>8.2f}s  "
            f"{theirs_seconds / ours_seconds:>6.0f}×  {shown}",
            flush=True,
        )


if __name__ == "__main__":
    main()
