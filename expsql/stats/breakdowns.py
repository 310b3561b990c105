"""Breakdowns: the overall result plus one result per segment of each breakdown dimension.

Rows of a breakdown carry one key column per dimension (``country``, ``platform``) holding the
unit's exposure attribute; every value column is a sum over units, so the rows of any set of
segments add up to the rows of their union. From one frame:

- **overall**: the rows summed over every segment, evaluated as rows without a breakdown (so the
  ep-stats fields of every output mean what they mean without one);
- **per dimension**, each dimension on its own: its segments (the value as text, a NULL attribute
  ``(null)``) ranked by exposed units (ties by name); the first ``breakdown_top`` are evaluated one
  by one, the rest summed into one segment ``(other)``. Each segment is evaluated exactly as the
  overall rows are (exposures, metrics, checks, SRM included) over the same variants.

The merge into ``(other)`` is done here rather than in SQL: the rows are already grouped by every
dimension at once and a sum of additive rows is exact, while a ranking in SQL would need one more
pass over the unit segments per dimension (``benchmarks/breakdowns.py`` measures the query).

Correction (``breakdown_correction``): ``segment`` (default) corrects across the treatment
variants inside each segment, like the overall result; ``segments`` corrects across every
segment × treatment variant of a dimension, per metric, with the experiment's correction method
(confidence intervals widened the same way).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import (
    GOAL_VALUES,
    METRIC_COVARIATE_VALUES,
    METRIC_VALUES,
    UNIT_COVARIATE_VALUES,
    UNIT_VALUES,
)
from expsql.errors import RowsError
from expsql.models import Experiment
from expsql.stats.corrections import Correction, adjust_p_values
from expsql.stats.detection import detect_contract
from expsql.stats.evaluation import Evaluation
from expsql.stats.multiple_exposures import exposed_units, split_marked
from expsql.stats.planning import false_positive_risk
from expsql.stats.readouts import Readout, interval_bounds, widened_half_widths
from expsql.stats.rows import dimension_names
from expsql.stats.segment_results import SEGMENT_KEYS, Breakdowns
from expsql.stats.tables import CHECK_COLUMNS, EXPOSURE_COLUMNS, METRIC_COLUMNS, Table

#: The segment of rows whose attribute is NULL, and of the segments beyond the top N.
NULL_SEGMENT = "(null)"
OTHER_SEGMENT = "(other)"
_VALUE_COLUMNS = frozenset(
    (*GOAL_VALUES, *METRIC_VALUES, *METRIC_COVARIATE_VALUES, *UNIT_VALUES, *UNIT_COVARIATE_VALUES)
)

#: ``evaluate`` for rows without a breakdown: (experiment, rows, correction) → Evaluation.
EvaluateOne = Callable[[Experiment, pd.DataFrame, Correction], Evaluation]


def segment_labels(column: pd.Series) -> pd.Series:
    """Each row's segment name: the attribute as text, ``(null)`` for a NULL (or NaN) one."""
    return column.map(lambda value: NULL_SEGMENT if _is_null(value) else _text(value)).astype(object)


def _is_null(value: Any) -> bool:
    return (
        value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))
    )


def _text(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an integer attribute read back as float (a NULL made it one)
    return str(value)


def summed(frame: pd.DataFrame, drop: list[str]) -> pd.DataFrame:
    """``frame`` without the ``drop`` columns, rows with equal keys summed (NULL stays NULL only
    when every summed cell is NULL, as SQL's ``SUM``)."""
    kept = frame.drop(columns=drop)
    values = [c for c in kept.columns if c in _VALUE_COLUMNS]
    keys = [c for c in kept.columns if c not in _VALUE_COLUMNS]
    for name in values:
        try:
            kept[name] = pd.to_numeric(kept[name])
        except (ValueError, TypeError):
            raise RowsError(f"column {name!r} holds text; the rows of a breakdown are sums") from None
    if not keys:
        return kept.sum(min_count=1).to_frame().T
    grouped = kept.groupby(keys, dropna=False, sort=False)[values].sum(min_count=1)
    return grouped.reset_index()


def evaluate_breakdowns(
    experiment: Experiment,
    frame: pd.DataFrame,
    correction: Correction,
    evaluate_one: EvaluateOne,
    readout: Readout | None = None,
) -> Evaluation:
    """The overall evaluation of ``frame``'s rows, with its :class:`Breakdowns` attached."""
    dimensions = list(experiment.breakdown)
    missing = [d for d in dimensions if d not in frame.columns]
    if missing:
        raise RowsError(
            f"the rows have no column {', '.join(map(repr, missing))} of the experiment's breakdown; "
            "compile the query with the same breakdown, or remove it from the experiment"
        )
    plain = experiment.model_copy(update={"breakdown": []})
    overall = evaluate_one(plain, summed(frame, dimensions), correction)
    plain = plain.model_copy(update={"variants": list(overall.variants)})
    contract = detect_contract(frame.drop(columns=dimensions), dimension_names(plain.goal_keys()))
    if contract == "wide rows":
        raise RowsError("a breakdown needs goal, metric or unit rows (wide rows have no segment columns)")
    per_segment = "none" if experiment.breakdown_correction == "segments" else correction
    parts: dict[str, list[pd.DataFrame]] = {"exposures": [], "metrics": [], "checks": []}
    messages: list[str] = []
    for dimension in dimensions:
        # The rows summed over the other dimensions once, with this one as labels: each segment's
        # rows are then a selection, and only (other) is summed again.
        labelled = frame.assign(**{dimension: segment_labels(frame[dimension])})
        own = summed(labelled, [d for d in dimensions if d != dimension])
        for segment, rows in _segments(plain, own, dimension, experiment.breakdown_top, contract):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = evaluate_one(plain, rows, per_segment)
            messages += [f"{dimension}={segment}: {w.message}" for w in caught]
            for name, table in (
                ("exposures", result.exposures),
                ("metrics", result.metrics),
                ("checks", result.checks),
            ):
                table.insert(0, "segment", segment)
                table.insert(0, "dimension", dimension)
                parts[name].append(table)
    metrics = pd.concat(parts["metrics"], ignore_index=True)
    if per_segment != correction:
        metrics = _corrected_across_segments(metrics, correction, plain, readout or Readout())
    breakdowns = Breakdowns(
        tuple(dimensions),
        experiment.breakdown_top,
        experiment.breakdown_correction,
        exposure_table=_table(parts["exposures"], EXPOSURE_COLUMNS),
        metric_table=_table([metrics], METRIC_COLUMNS),
        check_table=_table(parts["checks"], CHECK_COLUMNS),
        warnings=tuple(dict.fromkeys(messages)),
    )
    return overall.with_breakdowns(breakdowns, experiment)


def _segments(
    experiment: Experiment, frame: pd.DataFrame, dimension: str, top: int, contract: str
) -> list[tuple[str, pd.DataFrame]]:
    """The top segments of ``frame`` (rows with ``dimension`` as labels) by exposed units, ties by
    name, each with its rows without the label column, then ``(other)`` with the rest summed."""
    labels = frame[dimension]
    evaluated, _ = split_marked(frame)
    names = dimension_names(experiment.goal_keys())
    units = {
        str(segment): sum(exposed_units(rows, contract, experiment, names).values())
        for segment, rows in evaluated.groupby(dimension, sort=False)
    }
    units.update({str(segment): 0.0 for segment in labels.unique() if segment not in units})
    ranked = sorted(units, key=lambda segment: (-units[segment], segment))
    kept, rest = ranked[:top], ranked[top:]
    result = [(segment, frame[(labels == segment).to_numpy()].drop(columns=dimension)) for segment in kept]
    if rest:
        result.append((OTHER_SEGMENT, summed(frame[labels.isin(rest).to_numpy()], [dimension])))
    return [(segment, rows.reset_index(drop=True)) for segment, rows in result]


def _corrected_across_segments(
    metrics: pd.DataFrame, correction: Correction, experiment: Experiment, readout: Readout
) -> pd.DataFrame:
    """The per-segment raw results corrected across every segment × treatment of a dimension, per metric."""
    metrics = metrics.copy()
    treatment = metrics["exp_variant_id"] != experiment.control_variant
    keys = ["dimension", "segment", "metric_id"]
    control_units = metrics[~treatment].set_index(keys)["count"]
    totals = metrics["count"] + control_units.reindex(pd.MultiIndex.from_frame(metrics[keys])).to_numpy()
    directions = {str(m.id): (m.higher_is_better, m.one_sided) for m in experiment.metrics}
    for metric_id, family in metrics[treatment].groupby(["dimension", "metric_id"], sort=False):
        index = family.index
        higher, one_sided = (np.array(flag) for flag in directions[str(metric_id[1])])
        raw = family["p_value"].to_numpy(dtype=float)[np.newaxis, :]
        adjusted = adjust_p_values(raw, correction)
        level = float(family["confidence_level"].iloc[0])  # one level per evaluation
        alpha = 1 - level
        interval = widened_half_widths(
            readout,
            raw,
            adjusted,
            family["standard_error"].to_numpy(dtype=float)[np.newaxis, :],
            family["degrees_of_freedom"].to_numpy(dtype=float)[np.newaxis, :],
            totals[index].to_numpy(dtype=float)[np.newaxis, :],
            one_sided,
            alpha,
        )[0]
        p_value = adjusted[0]
        diff = family["diff"].to_numpy(dtype=float)
        lower, upper = interval_bounds(diff, interval, higher, one_sided, bayesian=False)
        metrics.loc[index, "p_value"] = p_value
        metrics.loc[index, "confidence_interval"] = interval
        metrics.loc[index, "ci_lower"] = lower
        metrics.loc[index, "ci_upper"] = upper
        with np.errstate(invalid="ignore"):
            metrics.loc[index, "significant"] = p_value < alpha
        metrics.loc[index, "false_positive_risk"] = false_positive_risk(
            p_value,
            family["power"].to_numpy(dtype=float),
            experiment.null_hypothesis_rate,
            level,
        )
    return metrics


def _table(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> Table:
    names = (*SEGMENT_KEYS, *columns)
    if not frames:
        return Table.build(names, {name: np.array([], dtype=object) for name in names})
    joined = pd.concat(frames, ignore_index=True)
    return Table.build(names, {name: joined[name].to_numpy() for name in names})
