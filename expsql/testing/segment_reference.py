"""The breakdown's rows in pandas, independently of the SQL: each unit's segment by the documented
rule, then the existing oracles (:mod:`expsql.testing.reference`,
:mod:`expsql.testing.attribution_reference`) run on the units of one segment at a time, each
segment's rows labelled with its attributes.

- attributed layout: a unit (variant, unit id) takes the attributes of its earliest exposure event
  (``date``, then the attributes ascending, NULL last); a unit without one is in the NULL segment;
- exposures layout: a unit takes the attributes of its first exposure in the window (timestamp,
  then the attributes ascending with NULL last, then the variant).

Segment columns are compared as labels (``(null)`` for NULL), as the stats read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from expsql.models import Experiment
from expsql.stats.breakdowns import segment_labels
from expsql.testing import reference as seed_reference

Rows = Callable[..., pd.DataFrame]


def labelled(frame: pd.DataFrame, dimensions: list[str]) -> pd.DataFrame:
    """``frame`` with each breakdown column as the stats' segment labels."""
    frame = frame.copy()
    for name in dimensions:
        frame[name] = segment_labels(frame[name])
    return frame


def attributed_segments(events: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Per (exp_variant_id, unit_id) of the experiment's events: the attributes of its earliest
    exposure event, NULL for units without one."""
    dims = list(experiment.breakdown)
    scoped = seed_reference.experiment_events(events, experiment, seed_reference.Source())
    exposures = scoped[
        (scoped["goal"] == "exposure")
        & (scoped["unit_type"] == experiment.unit_type)
        & (scoped["agg_type"] == "global")
    ]
    first = (
        exposures.sort_values(["date", *dims], na_position="last", kind="stable")
        .drop_duplicates(["exp_variant_id", "unit_id"])
        .loc[:, ["exp_variant_id", "unit_id", *dims]]
    )
    units = scoped[["exp_variant_id", "unit_id"]].drop_duplicates()
    return units.merge(first, how="left", on=["exp_variant_id", "unit_id"])


def attributed_rows(rows: Rows, events: pd.DataFrame, experiment: Experiment, source: Any) -> pd.DataFrame:
    """``rows`` (a :mod:`expsql.testing.reference` contract) per segment of the experiment's breakdown."""
    dims = list(experiment.breakdown)
    plain = experiment.model_copy(update={"breakdown": []})
    segments = labelled(attributed_segments(events, experiment), dims)
    scoped = events[events["exp_id"] == experiment.id]
    parts = []
    for values, units in segments.groupby(dims, dropna=False):
        keys = units[["exp_variant_id", "unit_id"]]
        own = scoped.merge(keys, on=["exp_variant_id", "unit_id"], how="inner")
        part = rows(own, plain, source)
        parts.append(_with_segment(part, dims, values))
    return pd.concat(parts, ignore_index=True)


def exposures_segments(exposures: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Per unit exposed in the window: the attributes of its first exposure."""
    dims = list(experiment.breakdown)
    keep = (exposures["exp_id"] == experiment.id) & exposures[
        ["unit_id", "variant_id", "timestamp"]
    ].notna().all(axis=1)
    if experiment.date_from is not None:
        keep &= exposures["timestamp"] >= pd.Timestamp(experiment.date_from)
    if experiment.date_until is not None:
        keep &= exposures["timestamp"] < pd.Timestamp(experiment.date_until) + pd.Timedelta(days=1)
    ordered = exposures[keep].sort_values(
        ["timestamp", *dims, "variant_id"], na_position="last", kind="stable"
    )
    return ordered.drop_duplicates("unit_id").loc[:, ["unit_id", *dims]]


def exposures_rows(
    rows: Rows, exposures: pd.DataFrame, events: pd.DataFrame, experiment: Experiment, source: Any
) -> pd.DataFrame:
    """``rows`` (a :mod:`expsql.testing.attribution_reference` contract) per segment of the breakdown."""
    dims = list(experiment.breakdown)
    plain = experiment.model_copy(update={"breakdown": []})
    segments = labelled(exposures_segments(exposures, experiment), dims)
    parts = []
    for values, units in segments.groupby(dims, dropna=False):
        own = exposures[exposures["unit_id"].isin(set(units["unit_id"]))]
        part = rows(own, events, plain, source)
        parts.append(_with_segment(part, dims, values))
    return pd.concat(parts, ignore_index=True)


def _with_segment(part: pd.DataFrame, dims: list[str], values: Any) -> pd.DataFrame:
    """The segment's columns where the contract's rows put them: after the goal rows' dimension
    labels, after ``metric_id`` in metric rows, after the unit rows' dimension labels."""
    values = values if isinstance(values, tuple) else (values,)
    value_columns = {"count", "n"}
    position = next(i for i, c in enumerate(part.columns) if c in value_columns)
    for offset, (name, value) in enumerate(zip(dims, values, strict=True)):
        part.insert(position + offset, name, value)
    return part
