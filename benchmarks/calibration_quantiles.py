"""Quantile-metric calibration (:mod:`expsql.stats.quantiles`), part of ``benchmarks/calibration.py``.

A/A experiments, the quantile columns of the metric rows computed with numpy as the SQL computes
them (``PERCENTILE_CONT``'s interpolation, the rank bounds at ``ν ∓ z·sqrt(ν(1 − ν)/n)``), then
evaluated by :func:`expsql.evaluate` (packed: one metric per experiment, as the other figures):

1. **Unit quantiles**, p50 and p90 of a log-normal per-unit value (lognormal(0, 1)), ``UNITS``
   units per variant (only the order statistics the rows read are drawn, exactly distributed).
2. **Event quantile**, p90 over events with strong within-unit correlation: each unit has its own
   level (lognormal(0, 0.8)), its 1 + Poisson(4) events are lognormal around it (sd 0.3), so the
   events of a unit are far more alike than events of different units. With the clustered variance
   (Deng, Knoblich & Lu 2018) the false-positive rate stays at α; with the iid variance (the same
   rows without the cluster sums) it does not, printed beside it as the contrast.

Target for 1 and the clustered 2: 4.3–5.7 % over 4,000 experiments (5 % ± two binomial standard
errors). The variance is read off ``2z·sqrt(nν(1 − ν))`` ranks of the data, so it is itself an
estimate whose noise makes the test slightly liberal when that is few ranks: about 5.4 % at 2,000
units for a median, 5.1–5.2 % at 10,000 (``SMALL_UNITS`` prints the former beside).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.calibration import VARIANTS, treatment_results
from expsql.contracts import EXPOSURE_ROW_ID, METRIC_CLUSTER_VALUES, METRIC_QUANTILE_VALUES, METRIC_VALUES
from expsql.models import Experiment
from expsql.stats.quantiles import rank_levels

FALSE_POSITIVE_TARGET = (0.043, 0.057)
UNITS, EVENT_UNITS = 10_000, 1000
#: Events sorted at once by :func:`event_columns` (bounds its memory).
CHUNK_EVENTS = 4_000_000
#: A smaller experiment's unit median, printed beside the figures (not held to the target).
SMALL_UNITS = 2000


def _picks(n: np.ndarray, level: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group of ``n`` sorted observations: the 0-based rank below ``PERCENTILE_CONT(level)``'s
    position ``(n − 1)·level`` and the weight of the rank above."""
    position = (n - 1) * level
    below = np.floor(position)
    return below.astype(np.int64), position - below


def _levels(level: float, n: np.ndarray) -> list[np.ndarray]:
    lower, upper = rank_levels(level, n.astype(float))
    return [np.full(n.shape, level), lower, upper]


def unit_columns(rng: np.random.Generator, experiments: int, level: float, units: int = UNITS) -> np.ndarray:
    """``(E, V, 4)`` quantile columns of A/A unit quantiles over lognormal(0, 1) per-unit values.

    Only the order statistics the columns read are drawn, exactly as distributed as those of
    ``units`` sorted draws: uniform order statistics are partial sums of exponentials over their
    total (Rényi's representation), so the needed ranks' sums are independent gamma gaps.
    """
    shape = (experiments, len(VARIANTS))
    n = np.full(shape, units)
    ranks = sorted(
        {int(r) for at in _levels(level, n[:1, :1]) for r in _picks(n[:1, :1], float(at[0, 0]))[0].ravel()}
    )
    ranks = sorted({*ranks, *(r + 1 for r in ranks if r + 1 < units)})
    gaps = np.diff([0, *(r + 1 for r in ranks), units + 1])  # S_(r+1) is the (r+1)-th of n+1 sums
    sums = np.cumsum(rng.gamma(np.broadcast_to(gaps, (*shape, len(gaps)))), axis=-1)
    uniform = sums[..., :-1] / sums[..., -1:]
    drawn = dict(zip(ranks, np.moveaxis(np.exp(stats.norm.ppf(uniform)), -1, 0), strict=True))
    columns = [n.astype(float)]
    for at in _levels(level, n[:1, :1]):
        below, weight = (float(v[0, 0]) for v in _picks(n[:1, :1], float(at[0, 0])))
        low = drawn[int(below)]
        high = drawn.get(int(below) + 1, low)
        columns.append(low * (1 - weight) + high * weight)
    return np.stack(columns, axis=-1)


def event_columns(
    rng: np.random.Generator, experiments: int, level: float, units: int = EVENT_UNITS
) -> np.ndarray:
    """``(E, V, 10)`` quantile and cluster columns of A/A event quantiles (correlated within units),
    vectorised over the groups (experiment × variant) of one chunk: one sort of every event, keyed
    by group then value (the log values lie far inside ±32)."""
    groups = experiments * len(VARIANTS)
    result = np.empty((groups, 10))
    chunk = max(1, CHUNK_EVENTS // (5 * units))
    for first in range(0, groups, chunk):
        size = min(chunk, groups - first)
        counts = 1 + rng.poisson(4.0, (size, units))
        owner = np.repeat(np.arange(size * units), counts.ravel())  # unit id within the chunk
        group = owner // units
        centre = np.log(rng.lognormal(0.0, 0.8, size * units))
        logs = rng.normal(centre[owner], 0.3)
        order = np.argsort(group * 64.0 + logs)  # by group, then value (|logs| < 32 by far)
        ordered = np.exp(logs[order])
        n = counts.sum(axis=1)
        start = np.concatenate([[0], np.cumsum(n)[:-1]])
        columns = [n.astype(float)]
        for at in _levels(level, n):
            below, weight = _picks(n, at)
            above = np.minimum(below + 1, n - 1)
            columns.append(ordered[start + below] * (1 - weight) + ordered[start + above] * weight)
        estimate = columns[1]
        a = np.bincount(owner, weights=np.exp(logs) <= estimate[group], minlength=size * units).reshape(
            size, units
        )
        b = counts.astype(float)
        result[first : first + size, :4] = np.stack(columns, axis=-1)
        result[first : first + size, 4:] = np.stack(
            [a.sum(1), (a * a).sum(1), b.sum(1), (b * b).sum(1), (a * b).sum(1), np.full(size, float(units))],
            axis=-1,
        )
    return result.reshape(experiments, len(VARIANTS), 10)


def rows(columns: np.ndarray, units: int) -> pd.DataFrame:
    """Metric rows of one experiment whose metric ``i`` is simulated experiment ``i``."""
    experiments, variants, width = columns.shape
    names = [*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES][:width]
    frame = pd.DataFrame(
        {
            "exp_id": "exp",
            "exp_variant_id": np.tile(np.array(VARIANTS), experiments),
            "metric_id": np.repeat(np.arange(experiments).astype(str), variants),
            **{name: float(units) if name in ("n", "sum_y", "sum_y2") else 0.0 for name in METRIC_VALUES},
            **{name: columns[..., i].ravel() for i, name in enumerate(names)},
        }
    )
    for name in [*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES][width:]:
        frame[name] = np.nan
    exposures = pd.DataFrame(
        {"exp_id": "exp", "exp_variant_id": list(VARIANTS), "metric_id": EXPOSURE_ROW_ID,
         **dict.fromkeys(METRIC_VALUES, float(units))}
    )  # fmt: skip
    return pd.concat([frame, exposures], ignore_index=True)


@functools.lru_cache(maxsize=8)
def experiment(experiments: int, level: float, quantile_of: str) -> Experiment:
    metrics = [
        {"id": i, "name": f"q {i}", "nominator": "value(user.unit.load)", "quantile": level,
         "quantile_of": quantile_of}
        for i in range(experiments)
    ]  # fmt: skip
    return Experiment.model_validate(
        {
            "id": "exp",
            "control_variant": "a",
            "unit_type": "user",
            "variants": list(VARIANTS),
            "metrics": metrics,
        }
    )


def false_positives(rng: np.random.Generator, experiments: int) -> dict[str, np.ndarray]:
    """Per figure, whether each A/A experiment's treatment came out significant (α = 0.05)."""
    result = {}
    columns = unit_columns(rng, experiments, 0.5, SMALL_UNITS)
    small = treatment_results(experiment(experiments, 0.5, "unit"), rows(columns, SMALL_UNITS))
    result[f"unit p50, {SMALL_UNITS} units (contrast)"] = small["p_value"].to_numpy() < 0.05
    for level in (0.5, 0.9):
        columns = unit_columns(rng, experiments, level)
        significant = treatment_results(experiment(experiments, level, "unit"), rows(columns, UNITS))
        result[f"unit p{level * 100:.0f}"] = significant["p_value"].to_numpy() < 0.05
    columns = event_columns(rng, experiments, 0.9)
    clustered = treatment_results(experiment(experiments, 0.9, "event"), rows(columns, EVENT_UNITS))
    result["event p90, clustered variance"] = clustered["p_value"].to_numpy() < 0.05
    iid = treatment_results(experiment(experiments, 0.9, "event"), rows(columns[..., :4], EVENT_UNITS))
    result["event p90, iid variance"] = iid["p_value"].to_numpy() < 0.05
    return result
