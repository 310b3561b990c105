"""Per-unit data with pre-exposure values, and the metric rows and unit rows CUPED reads from it.

Built by hand (no compiler): :func:`units` simulates per-unit revenue and sessions before and after
exposure, correlated through each unit's own activity level; :func:`cuped_metric_rows` sums per-unit
nominators and denominators (and their covariates) into metric rows with the CUPED columns;
:func:`cuped_unit_rows` writes the same units as unit rows with ``pre_count, pre_sum_value``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import EXPOSURE_ROW_ID, METRIC_COVARIATE_VALUES, METRIC_VALUES
from expsql.models import Experiment
from tests.stats.frames import UNIT, experiment


def units(seed: int, sizes: dict[str, int], lift: float = 0.0) -> pd.DataFrame:
    """Per unit: ``variant``, sessions and revenue after (``sessions``, ``revenue``) and before
    exposure (``pre_sessions``, ``pre_revenue``); some units have no pre-exposure activity, and
    every variant but the first has its revenue scaled by ``1 + lift``."""
    rng = np.random.default_rng(seed)
    variant = np.repeat(np.array(list(sizes), dtype=object), list(sizes.values()))
    activity = rng.gamma(2.0, 1.5, variant.size)
    sessions = rng.poisson(activity)
    pre_sessions = rng.poisson(activity) * (rng.random(variant.size) > 0.2)
    spend = rng.gamma(3.0, 4.0, variant.size)
    revenue = rng.gamma(np.maximum(sessions, 1e-9), spend) * (sessions > 0)
    pre_revenue = rng.gamma(np.maximum(pre_sessions, 1e-9), spend) * (pre_sessions > 0)
    revenue = revenue * np.where(variant == next(iter(sizes)), 1.0, 1 + lift)
    return pd.DataFrame(
        {
            "variant": variant,
            "unit_id": [f"u{i}" for i in range(variant.size)],
            "sessions": sessions.astype(float),
            "revenue": revenue,
            "pre_sessions": pre_sessions.astype(float),
            "pre_revenue": pre_revenue,
        }
    )


def sums(x: np.ndarray, y: np.ndarray, xc: np.ndarray, yc: np.ndarray) -> dict[str, float]:
    """Metric-rows sums of per-unit nominator x, denominator y and their covariates xc, yc."""
    columns = (
        np.ones_like(x), x, x * x, y, y * y, x * y,
        xc, xc * xc, yc, yc * yc, xc * yc, x * xc, x * yc, y * xc, y * yc,
    )  # fmt: skip
    names = (*METRIC_VALUES, *METRIC_COVARIATE_VALUES)
    return {name: float(column.sum()) for name, column in zip(names, columns, strict=True)}


def cuped_metric_rows(
    data: pd.DataFrame, metrics: dict[str, tuple[str, str, str, str] | tuple[str, str]]
) -> pd.DataFrame:
    """Metric rows of ``metric_id → (x, y, xc, yc)`` columns of ``data`` (``(x, y)``: covariates
    NULL, as for a metric CUPED does not adjust); a column name ``1`` is 1 per unit."""
    rows: list[dict[str, Any]] = []
    for variant, part in data.groupby("variant", sort=True):
        ones = np.ones(len(part))

        def column(name: str, part: pd.DataFrame = part, ones: np.ndarray = ones) -> np.ndarray:
            return ones if name == "1" else part[name].to_numpy(float)

        for metric_id, names in metrics.items():
            x, y = column(names[0]), column(names[1])
            if len(names) == 4:
                values = sums(x, y, column(names[2]), column(names[3]))
            else:
                values = sums(x, y, x, y) | dict.fromkeys(METRIC_COVARIATE_VALUES, None)
            rows.append({"exp_id": "exp", "exp_variant_id": variant, "metric_id": metric_id, **values})
        exposure = {name: float(len(part)) for name in METRIC_VALUES}
        rows.append(
            {"exp_id": "exp", "exp_variant_id": variant, "metric_id": EXPOSURE_ROW_ID, **exposure}
            | dict.fromkeys(METRIC_COVARIATE_VALUES, None)
        )
    return pd.DataFrame(rows)


def cuped_unit_rows(data: pd.DataFrame) -> pd.DataFrame:
    """Unit rows of ``data``: an exposure row per unit, session and revenue rows with their
    pre-exposure values (units with pre-exposure activity only have count 0 and sum_value 0)."""
    keys = {"exp_id": "exp", "exp_variant_id": data["variant"], "unit_type": UNIT, "unit_id": data["unit_id"]}
    zeros = np.zeros(len(data))
    exposure = pd.DataFrame(
        keys | {"agg_type": "global", "goal": "exposure", "count": 1.0, "sum_value": 0.0}
        | {"pre_count": zeros, "pre_sum_value": zeros}
    )  # fmt: skip
    session = pd.DataFrame(
        keys | {"agg_type": "unit", "goal": "session", "count": data["sessions"], "sum_value": zeros}
        | {"pre_count": data["pre_sessions"], "pre_sum_value": zeros}
    )  # fmt: skip
    revenue = pd.DataFrame(
        keys | {"agg_type": "unit", "goal": "revenue", "count": data["sessions"]}
        | {"sum_value": data["revenue"], "pre_count": data["pre_sessions"]}
        | {"pre_sum_value": data["pre_revenue"]}
    )  # fmt: skip
    rows = pd.concat([exposure, session, revenue], ignore_index=True)
    active = (rows["count"] != 0) | (rows["pre_count"] != 0) | (rows["goal"] == "exposure")
    columns = ["exp_id", "exp_variant_id", "unit_type", "agg_type", "goal", "unit_id"]
    return rows.loc[active, [*columns, "count", "sum_value", "pre_count", "pre_sum_value"]]


def cuped_experiment(metrics: list[dict[str, Any]], lookback: float | None = 14, **fields: Any) -> Experiment:
    """:func:`tests.stats.frames.experiment` with CUPED on (``cuped_lookback_days``) unless None."""
    return experiment(metrics, cuped_lookback_days=lookback, **fields)
