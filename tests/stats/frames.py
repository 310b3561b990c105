"""Goal rows and metric rows built by hand for the stats tests (no compiler involved)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from expsql.models import Experiment

UNIT = "user"
EXPOSURES = f"count({UNIT}.global.exposure)"


def experiment(metrics: list[dict[str, Any]], **fields: Any) -> Experiment:
    """An experiment ``exp`` on unit ``user``, control ``a`` unless ``fields`` say otherwise."""
    data: dict[str, Any] = {"id": "exp", "control_variant": "a", "unit_type": UNIT, "metrics": metrics}
    data.update(fields)
    return Experiment.model_validate(data)


def metric(metric_id: int, nominator: str, denominator: str = EXPOSURES, **fields: Any) -> dict[str, Any]:
    base = {
        "id": metric_id,
        "name": f"metric {metric_id}",
        "nominator": nominator,
        "denominator": denominator,
    }
    return base | fields


def goal_row(
    variant: str,
    goal: str,
    *,
    count: float = 0,
    sum_sqr_count: float | None = None,
    sum_value: float = 0,
    sum_sqr_value: float = 0,
    count_unique: float | None = None,
    agg_type: str = "unit",
    exp_id: str = "exp",
    **dimensions: str,
) -> dict[str, Any]:
    """One goal row; squares and uniques default to a 0/1-per-unit goal (``count``)."""
    return {
        "exp_id": exp_id,
        "exp_variant_id": variant,
        "unit_type": UNIT,
        "agg_type": agg_type,
        "goal": goal,
        "count": count,
        "sum_sqr_count": count if sum_sqr_count is None else sum_sqr_count,
        "sum_value": sum_value,
        "sum_sqr_value": sum_sqr_value,
        "count_unique": count if count_unique is None else count_unique,
        **dimensions,
    }


def exposure_row(variant: str, units: float, **fields: Any) -> dict[str, Any]:
    """The ``user.global.exposure`` row of a variant: one exposure per unit."""
    return goal_row(variant, "exposure", count=units, agg_type="global", **fields)


def metric_row(
    variant: str,
    metric_id: str,
    n: float,
    sum_x: float,
    sum_x2: float,
    sum_y: float,
    sum_y2: float,
    sum_xy: float,
) -> dict[str, Any]:
    return {
        "exp_id": "exp",
        "exp_variant_id": variant,
        "metric_id": metric_id,
        "n": n,
        "sum_x": sum_x,
        "sum_x2": sum_x2,
        "sum_y": sum_y,
        "sum_y2": sum_y2,
        "sum_xy": sum_xy,
    }


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)
