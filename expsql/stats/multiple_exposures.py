"""The MultipleExposures check: units exposed to more than one variant (exposures layout).

The exposures-and-events layout excludes such units from every metric and check, and reports
them in the same rows: their exposures are kept under the marker variant
``@multiple:<variant>`` (:data:`~expsql.contracts.MULTIPLE_EXPOSURES_PREFIX`), one per variant the
unit saw, with no events. Here those rows are split off before anything else reads the rows, and
their exposed units per variant become the check:

- ``excluded_<variant>``: units exposed to ``<variant>`` and another variant;
- ``excluded_share``: the largest share of excluded units among a variant's units
  (``excluded / (excluded + evaluated)``), and ``max_share``: the experiment's
  ``max_multiple_exposures`` (default 1 %); ``passed = excluded_share <= max_share``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from expsql.contracts import EXPOSURE_ROW_ID, MULTIPLE_EXPOSURES_CHECK, MULTIPLE_EXPOSURES_PREFIX
from expsql.models import Check, Experiment
from expsql.stats.checks import CheckResult


def split_marked(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(rows of the experiment's variants, rows of units excluded for multiple exposures)``."""
    if "exp_variant_id" not in frame.columns:
        return frame, frame.iloc[0:0]
    variant = frame["exp_variant_id"]
    is_marker = variant.map(lambda v: isinstance(v, str) and v.startswith(MULTIPLE_EXPOSURES_PREFIX))
    marked = is_marker.to_numpy(dtype=bool)
    if not marked.any():
        return frame, frame.iloc[0:0]
    return frame[~marked].reset_index(drop=True), frame[marked].reset_index(drop=True)


def exposed_units(
    marked: pd.DataFrame, contract: str, experiment: Experiment, dimensions: Sequence[str]
) -> dict[str, float]:
    """Per variant (a marker's variant for marked rows), the exposed units the rows count: the
    ``@exposure`` row's ``n``, the exposure goal's ``count_unique``, or its distinct unit ids."""
    if marked.empty or contract == "wide rows":
        return {}
    variants = marked["exp_variant_id"].astype(str).str.removeprefix(MULTIPLE_EXPOSURES_PREFIX)
    if contract == "metric rows":
        rows = marked["metric_id"].astype(str) == EXPOSURE_ROW_ID
        counts = pd.to_numeric(marked.loc[rows, "n"]).groupby(variants[rows]).sum()
    else:  # goal and unit rows: those of the experiment's exposure goal, without dimension filters
        exposure = experiment.exposure_goal
        rows = (
            (marked["goal"] == exposure.goal)
            & (marked["unit_type"] == exposure.unit_type)
            & (marked["agg_type"] == exposure.agg_type)
        )
        for name in dimensions:
            rows &= marked[name].fillna("").astype(str) == ""
        if contract == "goal rows":
            counts = pd.to_numeric(marked.loc[rows, "count_unique"]).groupby(variants[rows]).sum()
        else:
            counts = marked.loc[rows, "unit_id"].groupby(variants[rows]).nunique()
    return {str(variant): float(count) for variant, count in counts.items()}


def multiple_exposures_check(
    experiment: Experiment, variants: Sequence[str], excluded: dict[str, float], evaluated: dict[str, float]
) -> CheckResult:
    """The check from the excluded and the evaluated units per variant (:func:`exposed_units`)."""
    counts = np.array([excluded.get(v, 0.0) for v in variants], dtype=float)
    units = np.array([evaluated.get(v, 0.0) for v in variants], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts / (counts + units)
    share = float(np.nanmax(shares)) if np.isfinite(shares).any() else 0.0
    variables = [(f"excluded_{variant}", float(c)) for variant, c in zip(variants, counts, strict=True)]
    variables += [("excluded_share", share), ("max_share", experiment.max_multiple_exposures)]
    check = Check(
        id=MULTIPLE_EXPOSURES_CHECK,
        name="Multiple exposures",
        type="MultipleExposures",
        denominator=f"count({experiment.unit_type}.global.exposure)",
    )
    return CheckResult(check, tuple(variables), bool(share <= experiment.max_multiple_exposures))
