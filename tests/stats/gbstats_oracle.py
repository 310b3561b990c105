"""GrowthBook's stats engine (``gbstats``, test-only) as an oracle: the same units as metric rows for
expsql and as gbstats' sufficient statistics.

gbstats 0.8.0 declares ``numpy<2`` and ``pandas<2``, so it is installed with ``--no-deps``
(``.ci/run``); the modules used here import and run under expsql's numpy and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from gbstats.models.statistics import RatioStatistic, SampleMeanStatistic

from tests.stats.frames import EXPOSURES, experiment, metric, metric_row

MEAN_METRIC = "value(user.unit.purchase)"
RATIO_NOMINATOR, RATIO_DENOMINATOR = "value(user.unit.purchase)", "count(user.unit.session)"


@dataclass(frozen=True)
class Arm:
    """One variant's units: per-unit nominator ``x`` and denominator ``y``."""

    x: np.ndarray
    y: np.ndarray

    def row(self, variant: str, metric_id: str) -> dict[str, Any]:
        x, y = self.x, self.y
        return metric_row(
            variant, metric_id, len(x), x.sum(), (x * x).sum(), y.sum(), (y * y).sum(), (x * y).sum()
        )

    def mean_statistic(self) -> SampleMeanStatistic:
        return SampleMeanStatistic(
            n=len(self.x), sum=float(self.x.sum()), sum_squares=float((self.x**2).sum())
        )

    def ratio_statistic(self) -> RatioStatistic:
        x, y = self.x, self.y
        return RatioStatistic(
            n=len(x),
            m_statistic=SampleMeanStatistic(n=len(x), sum=float(x.sum()), sum_squares=float((x**2).sum())),
            d_statistic=SampleMeanStatistic(n=len(y), sum=float(y.sum()), sum_squares=float((y**2).sum())),
            m_d_sum_of_products=float((x * y).sum()),
        )


def arms(seed: int, lift: float, units: tuple[int, int] = (900, 1100)) -> tuple[Arm, Arm]:
    """Control and treatment: sessions per unit Poisson(3), revenue per session gamma, the
    treatment's revenue scaled by ``1 + lift``."""
    rng = np.random.default_rng(seed)
    result = []
    for n, scale in zip(units, (1.0, 1.0 + lift), strict=True):
        sessions = rng.poisson(3.0, n).astype(float) + 1
        revenue = rng.gamma(2.0, 5.0, n) * sessions * scale
        result.append(Arm(revenue, sessions))
    return result[0], result[1]


def evaluate_pair(
    kind: str,
    control: Arm,
    treatment: Arm,
    *,
    metric_fields: dict[str, Any] | None = None,
    experiment_fields: dict[str, Any] | None = None,
    **options: Any,
) -> pd.Series:
    """expsql's row of the treatment for a ``mean`` or ``ratio`` metric on the two arms."""
    from expsql.stats import evaluate

    fields = metric_fields or {}
    if kind == "mean":
        definition = metric(1, MEAN_METRIC, EXPOSURES, **fields)
        ones = [Arm(arm.x, np.ones_like(arm.x)) for arm in (control, treatment)]
        rows = [ones[0].row("a", "1"), ones[1].row("b", "1")]
    else:
        definition = metric(1, RATIO_NOMINATOR, RATIO_DENOMINATOR, **fields)
        rows = [control.row("a", "1"), treatment.row("b", "1")]
    result = evaluate(experiment([definition], **(experiment_fields or {})), pd.DataFrame(rows), **options)
    metrics = result.metrics
    return metrics[metrics["exp_variant_id"] == "b"].iloc[0]


def statistics(kind: str, control: Arm, treatment: Arm) -> tuple[Any, Any]:
    """gbstats' statistics of the two arms for a ``mean`` or ``ratio`` metric."""
    if kind == "mean":
        return control.mean_statistic(), treatment.mean_statistic()
    return control.ratio_statistic(), treatment.ratio_statistic()
