"""CUPED calibration (:mod:`expsql.stats.cuped`), the CUPED part of ``benchmarks/calibration.py``.

Per unit a post-exposure value x and its pre-exposure value x_c, jointly normal (mean 10, sd 3)
with correlation ρ (``--rho``, 0.7), are summed into metric rows with the CUPED columns (a mean
metric: y = y_c = 1 per unit) and evaluated by :func:`expsql.evaluate` with
``cuped_lookback_days`` set, one metric per experiment (packed, as the other figures):

1. **A/A, fixed horizon**: the false-positive rate (target 4.3–5.7 % over 4,000 experiments) and
   the mean ``variance_reduction`` (target ρ² ± 0.03).
2. **A/A, daily peeking** for 14 days under the default ``sequential="obrien-fleming"`` (≤ 5.7 %).
3. **Power** against a true lift of +3 % (treatment x scaled by 1.03): the unadjusted test with N
   units per variant (``--power-units``), CUPED with N/2, each beside the power
   :func:`expsql.stats.planning.power` predicts. CUPED keeps ``1 − ρ²`` of the variance, so at N/2
   it matches the unadjusted test at N only when ρ² ≥ 1/2: at ρ = 0.7 (variance ×1.02) the
   prediction is 79.2 % against 80 %; ``--power-rho`` (0.75, variance ×0.875) shows the gain.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from benchmarks.calibration import CHUNK, DAYS, FIRST_DAY, VARIANTS, treatment_results
from expsql.contracts import EXPOSURE_ROW_ID, METRIC_COVARIATE_VALUES, METRIC_VALUES
from expsql.models import Experiment
from expsql.stats.planning import power
from expsql.stats.sequential import Sequential

RHO = 0.7
POWER_RHO = 0.75
MEAN, SD = 10.0, 3.0
LIFT = 0.03
FALSE_POSITIVE_TARGET = (0.043, 0.057)
PEEKING_LIMIT = 0.057
REDUCTION_TOLERANCE = 0.03
#: New units per variant and day in the peeking figure.
UNITS_PER_DAY = 100
#: Units per variant of the unadjusted test in the power figure: about 80 % power at +3 %.
POWER_UNITS = 1600


def correlated(
    rng: np.random.Generator, shape: tuple[int, ...], rho: float, lift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per unit (x, x_c): normal, mean 10, sd 3, correlation ``rho``; x of variants after the first
    scaled by 1 + lift."""
    pre = rng.standard_normal(shape)
    post = rho * pre + np.sqrt(1 - rho * rho) * rng.standard_normal(shape)
    x, xc = MEAN + SD * post, MEAN + SD * pre
    x[:, 1:] *= 1 + lift
    return x, xc


def cuped_sums(
    rng: np.random.Generator, experiments: int, units: int, rho: float = RHO, lift: float = 0.0
) -> dict[str, np.ndarray]:
    """Metric-rows sums with the CUPED columns, ``(experiments, variants)`` each, of a mean metric."""
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, experiments, CHUNK):
        size = min(CHUNK, experiments - start)
        x, xc = correlated(rng, (size, len(VARIANTS), units), rho, lift)
        n = np.full((size, len(VARIANTS)), float(units))
        sx, sxc = x.sum(axis=2), xc.sum(axis=2)
        sx2, sxc2, sxxc = (x * x).sum(axis=2), (xc * xc).sum(axis=2), (x * xc).sum(axis=2)
        # y = y_c = 1 per unit: their sums are n, their products with x and x_c the sums of those.
        parts.append(
            {"n": n, "sum_x": sx, "sum_x2": sx2, "sum_y": n, "sum_y2": n, "sum_xy": sx,
             "sum_xc": sxc, "sum_xc2": sxc2, "sum_yc": n, "sum_yc2": n, "sum_xc_yc": sxc,
             "sum_x_xc": sxxc, "sum_x_yc": sx, "sum_y_xc": sxc, "sum_y_yc": n}
        )  # fmt: skip
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def add(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sums of two sets of units (metric-rows columns are additive, the CUPED ones too)."""
    return {name: left[name] + right[name] for name in left}


def cuped_metric_rows(sums: dict[str, np.ndarray]) -> pd.DataFrame:
    """Metric rows, metric ``i`` = experiment ``i``, plus the exposure row (no covariate sums)."""
    experiments, variants = sums["n"].shape
    frame = pd.DataFrame(
        {
            "exp_id": "exp",
            "exp_variant_id": np.tile(np.array(VARIANTS[:variants]), experiments),
            "metric_id": np.repeat(np.arange(experiments).astype(str).astype(object), variants),
            **{name: column.ravel() for name, column in sums.items()},
        }
    )
    units = sums["n"][0]
    exposures = pd.DataFrame(
        {"exp_id": "exp", "exp_variant_id": list(VARIANTS[:variants]), "metric_id": EXPOSURE_ROW_ID,
         **{name: units for name in METRIC_VALUES}, **dict.fromkeys(METRIC_COVARIATE_VALUES, np.nan)}
    )  # fmt: skip
    return pd.concat([frame, exposures], ignore_index=True)


def cuped_experiment(experiments: int, cuped: bool = True, **fields: object) -> Experiment:
    """A mean metric per experiment, CUPED on (``cuped_lookback_days`` 14) or off."""
    metrics = [
        {"id": i, "name": f"value {i}", "nominator": "value(user.unit.value)",
         "denominator": "count(user.global.exposure)"}
        for i in range(experiments)
    ]  # fmt: skip
    return Experiment.model_validate(
        {"id": "exp", "control_variant": "a", "unit_type": "user", "variants": list(VARIANTS),
         "metrics": metrics, "cuped_lookback_days": 14 if cuped else None, **fields}
    )  # fmt: skip


def aa_results(rng: np.random.Generator, experiments: int, units: int, rho: float = RHO) -> pd.DataFrame:
    """The treatment rows of ``experiments`` A/A experiments evaluated with CUPED, fixed horizon."""
    return treatment_results(
        cuped_experiment(experiments), cuped_metric_rows(cuped_sums(rng, experiments, units, rho))
    )


def peeking(
    rng: np.random.Generator, experiments: int, units_per_day: int, sequential: Sequential = "obrien-fleming"
) -> np.ndarray:
    """Which A/A experiments with CUPED were significant at some daily look of a 14-day experiment."""
    planned = cuped_experiment(
        experiments, date_from=FIRST_DAY, date_to=FIRST_DAY + dt.timedelta(days=DAYS - 1)
    )
    ever = np.zeros(experiments, dtype=bool)
    total: dict[str, np.ndarray] | None = None
    for day in range(DAYS):
        today = cuped_sums(rng, experiments, units_per_day)
        total = today if total is None else add(total, today)
        definition = planned.model_copy(update={"date_for": FIRST_DAY + dt.timedelta(days=day)})
        ever |= treatment_results(definition, cuped_metric_rows(total), sequential)["significant"].to_numpy(
            bool
        )
    return ever


def power_figures(
    rng: np.random.Generator, experiments: int, units: int = POWER_UNITS, rho: float = RHO
) -> dict[str, tuple[float, float]]:
    """``{"unadjusted N": (simulated, predicted), "CUPED N/2": (...)}`` of a +3 % lift at ``rho``."""
    full = cuped_sums(rng, experiments, units, rho, LIFT)
    half = cuped_sums(rng, experiments, units // 2, rho, LIFT)
    plain = treatment_results(cuped_experiment(experiments, cuped=False), cuped_metric_rows(full))
    adjusted = treatment_results(cuped_experiment(experiments), cuped_metric_rows(half))
    return {
        "unadjusted N": (plain["significant"].mean(), power(2, units, LIFT, MEAN, SD, SD * (1 + LIFT))),
        "CUPED N/2": (
            adjusted["significant"].mean(),
            power(2, units // 2, LIFT, MEAN, SD, SD * (1 + LIFT), rho=rho),
        ),
    }
