"""Calibration of ``expsql.evaluate`` by simulation: false positives, daily peeking, CI coverage.

Simulated per-unit data (numpy, vectorised over experiments) is summed into goal rows or metric
rows and evaluated by :func:`expsql.evaluate` at α = 0.05:

1. **A/A, mean metric, goal rows**: ``value(revenue) / count(exposure)``, revenue zero-inflated
   lognormal (30 % buy, lognormal(3, 1)), ``--units`` units per variant; fixed horizon.
2. **A/A, ratio metric, metric rows**: clicks / views per unit by the delta method; views vary
   (1 + Poisson(Gamma(2, 5))), each unit's click-through rate is Beta(2, 18).
3. **Daily peeking**: the mean metric over 14 days, ``--units-per-day`` new units per variant a
   day, significant at *some* daily look, with ``sequential="obrien-fleming"`` (the default; must
   stay ≤ 5.5 %), ``"ep-stats"`` and ``"none"`` (the contrast).
4. **Coverage**: A/B with a true relative lift of the mean metric (``--lift``, revenue scaled by
   1 + lift, so the true lift is exact): the share of 95 % confidence intervals that contain it.
5. **Readouts** (``benchmarks/calibration_readouts.py``): A/A peeking after every 5 % of the data
   with ``sequential: always-valid`` beside the fixed-horizon test, the confidence sequence's
   coverage of the whole path, and the Bayesian flat-prior A/A winner rates.
6. **CUPED** (``benchmarks/calibration_cuped.py``, ``--cuped-experiments`` 4,000): A/A false
   positives at a fixed horizon and with daily peeking, the mean variance reduction against ρ², and
   the power of CUPED at half the units of the unadjusted test, on metric rows with covariate sums.

Every rate comes with its Clopper–Pearson 95 % interval and whether the rate lies in its target.
Cases 1, 2 and 4 evaluate each experiment on its own (one ``evaluate`` call per experiment);
peeking evaluates each day's experiments together, one metric per experiment, since the metrics of
an evaluation are tested independently (two variants: no correction across them), which the tests
check against separate evaluations. ``--packed`` packs cases 1, 2 and 4 the same way (fast).

Run: ``python benchmarks/calibration.py [--experiments 2000] [--seed 1] [--packed]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.stats.sequential import Sequential

ALPHA = 0.05
VARIANTS = ("a", "b")
DAYS = 14
FIRST_DAY = dt.date(2026, 3, 1)
BUY_RATE, LOG_MEAN, LOG_SD = 0.3, 3.0, 1.0
#: Experiments simulated at once: bounds the memory of the per-unit arrays.
CHUNK = 250
FALSE_POSITIVE_TARGET = (0.04, 0.06)
PEEKING_LIMIT = 0.055
COVERAGE_TARGET = (0.94, 0.96)


# -- per-unit data -----------------------------------------------------------------------------------


def revenue(rng: np.random.Generator, shape: tuple[int, ...], lift: float = 0.0) -> np.ndarray:
    """Zero-inflated lognormal revenue per unit; ``lift`` scales it, so the true mean lift is exact."""
    bought = rng.random(shape) < BUY_RATE
    return np.where(bought, rng.lognormal(LOG_MEAN, LOG_SD, shape) * (1 + lift), 0.0)


def views_and_clicks(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per unit views (varying from unit to unit) and clicks at the unit's own click-through rate."""
    views = 1 + rng.poisson(rng.gamma(2.0, 5.0, shape))
    clicks = rng.binomial(views, rng.beta(2.0, 18.0, shape))
    return clicks.astype(float), views.astype(float)


@dataclass(frozen=True)
class ValueSums:
    """Per experiment and variant ``(E, V)``: units, buyers, Σx and Σx² of a per-unit value."""

    units: np.ndarray
    buyers: np.ndarray
    sum_value: np.ndarray
    sum_sqr_value: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> ValueSums:
        """Sums over the last axis of ``(E, V, units)`` values."""
        return cls(
            np.full(values.shape[:2], float(values.shape[2])),
            (values > 0).sum(axis=2).astype(float),
            values.sum(axis=2),
            (values**2).sum(axis=2),
        )

    def __add__(self, other: ValueSums) -> ValueSums:
        return ValueSums(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    def select(self, experiments: slice | np.ndarray) -> ValueSums:
        return ValueSums(*(getattr(self, f)[experiments] for f in self.__dataclass_fields__))

    @classmethod
    def concat(cls, parts: list[ValueSums]) -> ValueSums:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


def value_sums(rng: np.random.Generator, experiments: int, units: int, lift: float = 0.0) -> ValueSums:
    """Revenue sums of ``experiments`` experiments; the second variant's revenue lifted by ``lift``."""
    parts = []
    for start in range(0, experiments, CHUNK):
        size = min(CHUNK, experiments - start)
        values = revenue(rng, (size, len(VARIANTS), units))
        values[:, 1:] *= 1 + lift
        parts.append(ValueSums.of(values))
    return ValueSums.concat(parts)


def ratio_sums(rng: np.random.Generator, experiments: int, units: int) -> dict[str, np.ndarray]:
    """Metric-rows sums ``n, sum_x, …, sum_xy`` ``(E, V)`` of clicks (x) over views (y)."""
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, experiments, CHUNK):
        size = min(CHUNK, experiments - start)
        x, y = views_and_clicks(rng, (size, len(VARIANTS), units))
        parts.append(
            {
                "n": np.full((size, len(VARIANTS)), float(units)),
                "sum_x": x.sum(axis=2),
                "sum_x2": (x * x).sum(axis=2),
                "sum_y": y.sum(axis=2),
                "sum_y2": (y * y).sum(axis=2),
                "sum_xy": (x * y).sum(axis=2),
            }
        )
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


# -- rows and experiments ----------------------------------------------------------------------------


def goal_names(experiments: int) -> list[str]:
    return [f"revenue_{i}" for i in range(experiments)]


def goal_rows(sums: ValueSums, goals: list[str]) -> pd.DataFrame:
    """Goal rows of one experiment whose metric ``i`` reads goal ``goals[i]`` of experiment ``i``."""
    experiments, variants = sums.units.shape
    frame = pd.DataFrame(
        {
            "exp_id": "exp",
            "exp_variant_id": np.tile(np.array(VARIANTS[:variants]), experiments),
            "unit_type": "user",
            "agg_type": "unit",
            "goal": np.repeat(np.array(goals, dtype=object), variants),
            "count": sums.buyers.ravel(),
            "sum_sqr_count": sums.buyers.ravel(),
            "sum_value": sums.sum_value.ravel(),
            "sum_sqr_value": sums.sum_sqr_value.ravel(),
            "count_unique": sums.buyers.ravel(),
        }
    )
    units = sums.units[0]  # every experiment exposes the same number of units
    exposures = pd.DataFrame(
        {"exp_id": "exp", "exp_variant_id": list(VARIANTS[:variants]), "unit_type": "user",
         "agg_type": "global", "goal": "exposure", "count": units, "sum_sqr_count": units, "sum_value": 0.0,
         "sum_sqr_value": 0.0, "count_unique": units}
    )  # fmt: skip
    return pd.concat([frame, exposures], ignore_index=True)


def metric_rows(sums: dict[str, np.ndarray], ids: list[str]) -> pd.DataFrame:
    """Metric rows of one experiment whose metric ``ids[i]`` is experiment ``i``, plus exposures."""
    experiments, variants = sums["n"].shape
    frame = pd.DataFrame(
        {
            "exp_id": "exp",
            "exp_variant_id": np.tile(np.array(VARIANTS[:variants]), experiments),
            "metric_id": np.repeat(np.array(ids, dtype=object), variants),
            **{name: column.ravel() for name, column in sums.items()},
        }
    )
    units = sums["n"][0]
    exposures = pd.DataFrame(
        {"exp_id": "exp", "exp_variant_id": list(VARIANTS[:variants]), "metric_id": "@exposure",
         **{name: units for name in sums}}
    )  # fmt: skip
    return pd.concat([frame, exposures], ignore_index=True)


def mean_experiment(goals: list[str], **fields: object) -> Experiment:
    metrics = [
        {
            "id": i,
            "name": goal,
            "nominator": f"value(user.unit.{goal})",
            "denominator": "count(user.global.exposure)",
        }
        for i, goal in enumerate(goals)
    ]
    return Experiment.model_validate(
        {"id": "exp", "control_variant": "a", "unit_type": "user", "variants": list(VARIANTS),
         "metrics": metrics, **fields}
    )  # fmt: skip


def ratio_experiment(experiments: int) -> Experiment:
    metrics = [
        {
            "id": i,
            "name": f"ctr {i}",
            "nominator": "count(user.unit.click)",
            "denominator": "count(user.unit.view)",
        }
        for i in range(experiments)
    ]
    return Experiment.model_validate(
        {
            "id": "exp",
            "control_variant": "a",
            "unit_type": "user",
            "variants": list(VARIANTS),
            "metrics": metrics,
        }
    )


# -- evaluation --------------------------------------------------------------------------------------


def treatment_results(
    experiment: Experiment, rows: pd.DataFrame, sequential: Sequential = "none"
) -> pd.DataFrame:
    """The treatment's row of every metric, in metric order."""
    metrics = evaluate(experiment, rows, sequential=sequential).metrics
    return metrics[metrics["exp_variant_id"] == VARIANTS[1]].reset_index(drop=True)


def mean_results(sums: ValueSums, *, packed: bool) -> pd.DataFrame:
    """Each experiment's treatment result: all in one evaluation, or one evaluation each."""
    experiments = sums.units.shape[0]
    if packed:
        return treatment_results(
            mean_experiment(goal_names(experiments)), goal_rows(sums, goal_names(experiments))
        )
    single = mean_experiment(["revenue"])
    return pd.concat(
        [
            treatment_results(single, goal_rows(sums.select(slice(i, i + 1)), ["revenue"]))
            for i in range(experiments)
        ],
        ignore_index=True,
    )


def ratio_results(sums: dict[str, np.ndarray], *, packed: bool) -> pd.DataFrame:
    experiments = sums["n"].shape[0]
    if packed:
        ids = [str(i) for i in range(experiments)]
        return treatment_results(ratio_experiment(experiments), metric_rows(sums, ids))
    single = ratio_experiment(1)
    return pd.concat(
        [
            treatment_results(single, metric_rows({k: v[i : i + 1] for k, v in sums.items()}, ["0"]))
            for i in range(experiments)
        ],
        ignore_index=True,
    )


def peeking_rates(
    rng: np.random.Generator, experiments: int, units_per_day: int, modes: tuple[Sequential, ...]
) -> dict[str, np.ndarray]:
    """Per mode, which A/A experiments were significant at some daily look of a 14-day experiment."""
    planned = mean_experiment(
        goal_names(experiments), date_from=FIRST_DAY, date_to=FIRST_DAY + dt.timedelta(days=DAYS - 1)
    )
    ever = {mode: np.zeros(experiments, dtype=bool) for mode in modes}
    total: ValueSums | None = None
    for day in range(DAYS):
        today = value_sums(rng, experiments, units_per_day)
        total = today if total is None else total + today
        rows = goal_rows(total, goal_names(experiments))
        definition = planned.model_copy(update={"date_for": FIRST_DAY + dt.timedelta(days=day)})
        for mode in modes:
            ever[mode] |= treatment_results(definition, rows, mode)["significant"].to_numpy(bool)
    return ever


@dataclass(frozen=True)
class Rate:
    """A simulated proportion with its Clopper–Pearson 95 % interval."""

    hits: int
    trials: int

    @classmethod
    def of(cls, outcomes: np.ndarray) -> Rate:
        return cls(int(np.sum(outcomes)), int(np.size(outcomes)))

    @property
    def value(self) -> float:
        return self.hits / self.trials

    @property
    def interval(self) -> tuple[float, float]:
        low, high = stats.binomtest(self.hits, self.trials).proportion_ci(0.95, method="exact")
        return float(low), float(high)

    def line(self, label: str, verdict: str) -> str:
        low, high = self.interval
        counts = f"{self.hits:>5}/{self.trials:<5}"
        return f"{label:<55} {self.value:7.2%}  [{low:6.2%}, {high:6.2%}]  {counts} {verdict}"


def within(rate: Rate, bounds: tuple[float, float], digits: int = 0) -> str:
    ok = bounds[0] <= rate.value <= bounds[1]
    return f"{'ok' if ok else 'OUT'} (target {bounds[0]:.{digits}%}–{bounds[1]:.{digits}%})"


def covered(results: pd.DataFrame, lift: float) -> np.ndarray:
    return (results["ci_lower"].to_numpy(float) <= lift) & (lift <= results["ci_upper"].to_numpy(float))


def cuped_figures(rng: np.random.Generator, args: argparse.Namespace) -> None:
    """Print the CUPED figures (:mod:`benchmarks.calibration_cuped`)."""
    from benchmarks import calibration_cuped as cuped

    n, rho = args.cuped_experiments, args.rho
    print(f"CUPED: {n} experiments per figure, covariate correlation rho {rho}")
    aa = cuped.aa_results(rng, n, args.cuped_units, rho)
    rate = Rate.of(aa["significant"].to_numpy(bool))
    print(
        rate.line("A/A with CUPED (metric rows), fixed horizon", within(rate, cuped.FALSE_POSITIVE_TARGET, 1))
    )
    reduction = float(aa["variance_reduction"].mean())
    ok = abs(reduction - rho**2) <= cuped.REDUCTION_TOLERANCE
    label = "mean variance reduction (target rho² ± 0.03)"
    print(f"{label:<55} {reduction:7.4f}  rho² {rho**2:.4f} {'ok' if ok else 'OUT'}")
    rate = Rate.of(cuped.peeking(rng, n, cuped.UNITS_PER_DAY))
    verdict = f"{'ok' if rate.value <= cuped.PEEKING_LIMIT else 'OUT'} (limit {cuped.PEEKING_LIMIT:.1%})"
    print(rate.line(f"A/A with CUPED, daily peeking {DAYS} days, obrien-fleming", verdict))
    for power_rho in (rho, args.power_rho):
        figures = cuped.power_figures(rng, n, rho=power_rho)
        (plain, plain_predicted), (adjusted, predicted) = figures.values()
        print(
            f"power at +{cuped.LIFT:.0%}, rho {power_rho}: unadjusted {cuped.POWER_UNITS} units {plain:.2%} "
            f"(predicted {plain_predicted:.2%}), CUPED {cuped.POWER_UNITS // 2} units {adjusted:.2%} "
            f"(predicted {predicted:.2%})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=2000, help="simulated experiments per figure")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--units", type=int, default=2000, help="units per variant (fixed horizon)")
    parser.add_argument("--units-per-day", type=int, default=300, help="new units per variant and day")
    parser.add_argument("--lift", type=float, default=0.05, help="true relative lift for coverage")
    parser.add_argument("--packed", action="store_true", help="evaluate all experiments of a figure at once")
    parser.add_argument("--cuped-experiments", type=int, default=4000, help="simulated experiments, CUPED")
    parser.add_argument("--cuped-units", type=int, default=1000, help="units per variant, CUPED A/A")
    parser.add_argument("--rho", type=float, default=0.7, help="correlation of the CUPED covariate")
    parser.add_argument("--power-rho", type=float, default=0.75, help="a second rho for the power figure")
    parser.add_argument("--readout-units", type=int, default=2000, help="units per variant, readouts")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    n = args.experiments
    print(f"{n} experiments per figure, seed {args.seed}, alpha {ALPHA}; rate, 95 % Clopper-Pearson interval")

    timings: list[tuple[str, float, int]] = []

    def timed(label: str, calls: int, work: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        start = time.perf_counter()
        result = work()
        timings.append((label, time.perf_counter() - start, calls))
        return result

    calls = 1 if args.packed else n
    aa_mean = timed(
        "A/A mean", calls, lambda: mean_results(value_sums(rng, n, args.units), packed=args.packed)
    )
    rate = Rate.of(aa_mean["significant"].to_numpy(bool))
    print(rate.line("A/A mean metric (goal rows), fixed horizon", within(rate, FALSE_POSITIVE_TARGET)))
    aa_ratio = timed(
        "A/A ratio", calls, lambda: ratio_results(ratio_sums(rng, n, args.units), packed=args.packed)
    )
    rate = Rate.of(aa_ratio["significant"].to_numpy(bool))
    print(rate.line("A/A ratio metric (metric rows), fixed horizon", within(rate, FALSE_POSITIVE_TARGET)))

    modes: tuple[Sequential, ...] = ("obrien-fleming", "ep-stats", "none")
    start = time.perf_counter()
    ever = peeking_rates(rng, n, args.units_per_day, modes)
    timings.append(("peeking (packed per day and mode)", time.perf_counter() - start, DAYS * len(modes)))
    for mode in modes:
        rate = Rate.of(ever[mode])
        verdict = (
            f"{'ok' if rate.value <= PEEKING_LIMIT else 'OUT'} (limit {PEEKING_LIMIT:.1%})"
            if mode == "obrien-fleming"
            else "(contrast)"
        )
        print(rate.line(f"A/A daily peeking, {DAYS} days, sequential={mode}", verdict))

    ab = timed(
        "A/B coverage",
        calls,
        lambda: mean_results(value_sums(rng, n, args.units, args.lift), packed=args.packed),
    )
    rate = Rate.of(covered(ab, args.lift))
    print(rate.line(f"95 % CI covers the true lift {args.lift:+.0%}", within(rate, COVERAGE_TARGET)))
    start = time.perf_counter()
    from benchmarks.calibration_readouts import LOOKS, print_figures

    print_figures(rng, n, args.readout_units, args.lift)
    timings.append(("readouts (packed per look)", time.perf_counter() - start, 4 * LOOKS))
    start = time.perf_counter()
    cuped_figures(rng, args)
    timings.append(("CUPED (packed)", time.perf_counter() - start, 1 + DAYS + 4))
    print()
    print("time (simulation included)")
    for label, seconds, evaluations in timings:
        each = seconds / evaluations * 1e3
        print(f"  {label:<36} {seconds:7.1f} s  {evaluations:>5} evaluate calls  {each:8.1f} ms each")


if __name__ == "__main__":
    main()
