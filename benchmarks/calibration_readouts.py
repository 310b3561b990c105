"""Calibration of the readouts beside today's (:mod:`expsql.stats.readouts`), by simulation.

The mean metric of ``benchmarks/calibration.py`` (zero-inflated lognormal revenue per unit) on
metric rows, ``--readout-units`` units per variant in all, arriving in 20 equal batches: the
reader looks after every 5 % of the data and stops at the first significant look.

1. **A/A peeking**: the share of experiments significant at some look, with
   ``sequential: always-valid`` (must stay ≤ 5 %) beside the fixed-horizon test read the same way
   (``sequential: none``, far above 5 %).
2. **Coverage of the whole path**: A/B with a true relative lift (revenue scaled by 1 + lift): the
   share of experiments whose confidence sequence contains the lift at every one of the 20 looks
   (must be ≥ 95 %).
3. **Bayesian A/A, flat prior**: at the last look, the share of experiments whose chance to win
   exceeds 0.95 (a "won") and falls below 0.05 (a "lost"): ≈ 5 % each, 10 % in all, as a flat
   posterior's definition implies (P(z > 1.645) = 5 %).

Each look evaluates every experiment at once, one metric per experiment (two variants: the metrics
are tested independently, as ``benchmarks/calibration.py`` checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.calibration import CHUNK, VARIANTS, metric_rows, ratio_experiment, revenue
from expsql.models import Sequential
from expsql.stats import evaluate

LOOKS = 20
PEEKING_LIMIT = 0.05
PATH_COVERAGE = 0.95
WINNER_RATE = 0.05
THRESHOLD = 0.95


def batch_sums(rng: np.random.Generator, experiments: int, units: int, lift: float) -> dict[str, np.ndarray]:
    """Metric-rows sums ``(E, V)`` of one batch of ``units`` new units per variant (x revenue, y 1)."""
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, experiments, CHUNK):
        size = min(CHUNK, experiments - start)
        x = revenue(rng, (size, len(VARIANTS), units))
        x[:, 1:] *= 1 + lift
        count = np.full((size, len(VARIANTS)), float(units))
        total = x.sum(axis=2)
        parts.append(
            {"n": count, "sum_x": total, "sum_x2": (x * x).sum(axis=2), "sum_y": count, "sum_y2": count,
             "sum_xy": total}
        )  # fmt: skip
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def looks(
    rng: np.random.Generator, experiments: int, units: int, lift: float = 0.0
) -> list[dict[str, np.ndarray]]:
    """The cumulative sums at each of the 20 looks (every 5 % of ``units`` per variant)."""
    per_look = max(units // LOOKS, 2)
    cumulative: dict[str, np.ndarray] | None = None
    result = []
    for _ in range(LOOKS):
        batch = batch_sums(rng, experiments, per_look, lift)
        cumulative = batch if cumulative is None else {k: cumulative[k] + batch[k] for k in batch}
        result.append(cumulative)
    return result


def treatment_rows(sums: dict[str, np.ndarray], **options: object) -> pd.DataFrame:
    """The treatment's row of every experiment, all evaluated at once."""
    experiments = sums["n"].shape[0]
    rows = metric_rows(sums, [str(i) for i in range(experiments)])
    metrics = evaluate(ratio_experiment(experiments), rows, **options).metrics  # type: ignore[arg-type]
    return metrics[metrics["exp_variant_id"] == VARIANTS[1]].reset_index(drop=True)


def ever_significant(path: list[dict[str, np.ndarray]], sequential: Sequential) -> np.ndarray:
    """Per experiment: significant at some look (the reader stops there)."""
    ever = np.zeros(path[0]["n"].shape[0], dtype=bool)
    for sums in path:
        ever |= treatment_rows(sums, sequential=sequential)["significant"].to_numpy(bool)
    return ever


def path_covered(path: list[dict[str, np.ndarray]], lift: float) -> np.ndarray:
    """Per experiment: the always-valid sequence contains ``lift`` at every look."""
    always = np.ones(path[0]["n"].shape[0], dtype=bool)
    for sums in path:
        rows = treatment_rows(sums, sequential="always-valid")
        lower, upper = rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float)
        always &= (lower <= lift) & (lift <= upper)
    return always


@dataclass(frozen=True)
class BayesianWinners:
    """Per experiment, at the last look: won (chance to win > threshold) and lost (< 1 − threshold)."""

    won: np.ndarray
    lost: np.ndarray


def bayesian_winners(sums: dict[str, np.ndarray]) -> BayesianWinners:
    chance = treatment_rows(sums, inference="bayesian")["chance_to_win"].to_numpy(float)
    return BayesianWinners(chance > THRESHOLD, chance < 1 - THRESHOLD)


def print_figures(rng: np.random.Generator, experiments: int, units: int, lift: float) -> None:
    """Print the three figures, each with its Clopper–Pearson interval (``benchmarks/calibration.py``)."""
    from benchmarks.calibration import Rate

    print(f"Readouts: {experiments} experiments per figure, {units} units per variant, a look every 5 %")
    path = looks(rng, experiments, units)
    for mode, verdict in (("always-valid", True), ("none", False)):
        rate = Rate.of(ever_significant(path, mode))  # type: ignore[arg-type]
        label = f"A/A peeking every 5 %, {'always-valid' if verdict else 'fixed horizon (none)'}"
        ok = "ok" if rate.value <= PEEKING_LIMIT else "OUT"
        print(rate.line(label, f"{ok} (limit {PEEKING_LIMIT:.0%})" if verdict else "(contrast)"))
    winners = bayesian_winners(path[-1])
    for side, outcomes in (("won", winners.won), ("lost", winners.lost)):
        rate = Rate.of(outcomes)
        print(rate.line(f"Bayesian A/A, flat prior, {side} at {THRESHOLD}", f"(expected {WINNER_RATE:.0%})"))
    rate = Rate.of(path_covered(looks(rng, experiments, units, lift), lift))
    ok = "ok" if rate.value >= PATH_COVERAGE else "OUT"
    print(rate.line(f"sequence covers the lift {lift:+.0%} at all 20 looks", f"{ok} (≥ {PATH_COVERAGE:.0%})"))
