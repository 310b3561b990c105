"""An independent pandas oracle for the exposures-and-events layout (:class:`ExposuresSource`).

Written from the layout's semantics, not from the compiler: it attributes the raw events to the
exposed units in pandas (:func:`attributed`), which gives a table in the seed (attributed) layout,
and hands that table to :mod:`expsql.testing.reference`, the seed layout's oracle, for the per-unit sums,
the filters, the dimension masks and the metric algebra. Give it the DataFrames loaded into the
engine (:func:`expsql.testing.exposure_events.generate_exposures_and_events`) and compare with what the
engine returned through :func:`expsql.testing.reference.assert_rows_equal`.

The semantics it implements:

1. Units: the distinct unit ids with at least one exposure of the experiment (``exp_id`` equal to
   the experiment's id) whose timestamp is in ``[date_from 00:00, date_until + 1 day 00:00)``
   (no bound where the date is not set); rows with a NULL unit id, variant or timestamp never
   count. ``t0`` is the unit's earliest such exposure; variants are compared as text.
2. Variant: the one variant of the unit's exposures in the window; with several, under
   ``multiple_exposures: exclude`` the unit is excluded from every metric, check and exposure
   count but reported: each of its exposures is an exposure row of the pseudo-variant
   ``@multiple:<variant>`` (it has no events); under ``first`` it is the variant of its earliest
   exposure (a tie on the timestamp goes to the smallest variant text), all its exposures counting.
3. The exposure goal: each exposure in the window is an event of goal ``exposure`` (``cnt`` 1, no
   value) carrying the exposure log's dimension columns.
4. Attribution: an event of an evaluated unit counts when ``t0 + delay <= ts < t0 + delay + window``
   (no upper bound for a window of ``None``) and ``ts < date_until + 1 day 00:00``; events with a
   NULL unit id or timestamp never count, nor do events whose goal is ``exposure``. ``cnt`` is
   the count column (``EventColumns.count``) or 1, ``value`` the value column or nothing.
5. Filters: the seed's (:func:`expsql.testing.reference.filtered_events`) over the attributed table, so a
   goal filter drops events (never exposures), an exposure filter reads the exposure rows (with
   the exposure log's dimensions), a trigger filter reads attributed events only — always those
   of the experiment's own window, whichever metric is evaluated. Pseudo-variant units are
   filtered the same way (they have only exposure rows, so a trigger filter drops them all).
6. Dimensions of goal terms read the events' columns; on the exposure goal, the exposure log's.
7. A metric or check with its own window counts its goals over its own window; only metric rows
   are defined then (:func:`goal_rows` and :func:`unit_rows` refuse, like the compiler).

8. CUPED (``cuped_lookback_days: L``, :func:`pre_period`): each evaluated unit's pre-period is its
   events in ``[t0 - L days, t0)`` (no bound from ``date_from``), of any goal but ``exposure``,
   after the goal filters; they never count as triggers nor for a metric itself (exposure and
   trigger filters choose the units as without CUPED). Metric rows of each metric with ``cuped``
   true gain :data:`~expsql.contracts.METRIC_COVARIATE_VALUES`: xc / yc are the nominator /
   denominator evaluated per unit over its pre-period (an ``exposure`` term is 1; a unit without
   pre-period events has 0 for every other term; a division by zero gives 0), x / y the metric's
   own, summed over the row's units (those of ``n``); whatever the metric's own window, the
   pre-period is the same. A winsorized metric's xc is clipped to the percentiles of the real
   variants' units' xc. Pseudo-variant rows get them too (no events: xc and yc of an empty
   pre-period, xc clipped likewise). Every other row (``cuped: false``, checks, ``@exposure``)
   has NULL (NaN) there. Unit rows gain :data:`~expsql.contracts.UNIT_COVARIATE_VALUES`: per unit
   and goal term ``SUM(cnt)`` and ``SUM(value)`` of its pre-period events (0 without; a unit and
   term with pre-period events only has ``count = sum_value = 0``). Compare such rows with
   :func:`assert_rows_equal` (NULL-aware on the new columns).

Metric rows of a pseudo-variant: its ``@exposure`` row and one row per metric and check, its units
evaluated as units with exposures and no events (what the statistics split off); a winsorized
metric's percentiles pool the units of the real variants only, and clip the pseudo-variants' x
too. ``metric_rows(..., pseudo_variant_metrics=False)`` gives the ``@exposure`` row only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import (
    EXPOSURE_ROW_ID,
    METRIC_COVARIATE_VALUES,
    METRIC_KEYS,
    METRIC_VALUES,
    MULTIPLE_EXPOSURES_PREFIX,
    UNIT_COVARIATE_VALUES,
    UNIT_KEYS,
    UNIT_VALUES,
    check_row_id,
    metric_row_id,
)
from expsql.grammar.ast import BinaryOp, Expr, Goal, Negate, Number
from expsql.models import AttributionWindow, Check, Experiment, Metric
from expsql.source import Columns, ExposuresSource, Source
from expsql.testing import reference
from expsql.testing.events import SEED_COLUMNS

#: The seed-layout columns of :func:`attributed`, before the dimension columns.
ATTRIBUTED_COLUMNS = SEED_COLUMNS
#: How :mod:`expsql.testing.reference` reads :func:`attributed`'s table: no ``agg_type`` column, so both
#: ``unit`` and ``global`` terms match every row (the exposures layout has no aggregation types).
SEED_SOURCE_COLUMNS = Columns(agg_type=None)


def _seed_source(source: ExposuresSource) -> Source:
    """The :class:`Source` the seed oracle reads the attributed table with (dimension types kept)."""
    dimensions = {**source.exposures.dimensions, **source.events[0].dimensions}
    return Source(table="attributed", columns=SEED_SOURCE_COLUMNS, dimensions=dimensions)


def _undated(experiment: Experiment, **update: Any) -> Experiment:
    """The experiment without its dates: :func:`attributed` has applied them already."""
    return experiment.model_copy(update={"date_from": None, "date_to": None, "date_for": None, **update})


def _bounds(experiment: Experiment) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``[date_from 00:00, date_until + 1 day 00:00)``, ``None`` where unbounded."""
    start = None if experiment.date_from is None else pd.Timestamp(experiment.date_from)
    until = experiment.date_until
    end = None if until is None else pd.Timestamp(until + dt.timedelta(days=1))
    return start, end


def _dimension_names(frame: pd.DataFrame, used: set[str], skip: set[str]) -> list[str]:
    return [name for name in frame.columns if name not in skip and name in used]


def _exposed_units(
    exposures: pd.DataFrame, experiment: Experiment, source: ExposuresSource
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The experiment's valid exposures in the date window, each with its unit's variant (or
    pseudo-variant) as ``_variant``; and the evaluated units: ``_unit``, ``_variant``, ``_t0``."""
    names = source.exposures.columns
    frame = exposures
    valid = (
        frame[names.exp_id].notna()
        & frame[names.unit_id].notna()
        & frame[names.variant].notna()
        & frame[names.timestamp].notna()
    ).to_numpy(dtype=bool)
    frame = frame[valid]
    frame = frame[(frame[names.exp_id].astype(str) == experiment.id).to_numpy(dtype=bool)]
    times = pd.to_datetime(frame[names.timestamp])
    start, end = _bounds(experiment)
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= (times >= start).to_numpy(dtype=bool)
    if end is not None:
        keep &= (times < end).to_numpy(dtype=bool)
    frame = frame[keep].copy()
    frame["_unit"] = frame[names.unit_id].astype(str).to_numpy()
    frame["_shown"] = frame[names.variant].astype(str).to_numpy()
    frame["_ts"] = pd.to_datetime(frame[names.timestamp]).to_numpy()

    units = []
    variant_of: dict[str, str | None] = {}
    for key, rows in frame.groupby("_unit", sort=True):
        unit = str(key)
        t0 = rows["_ts"].min()
        shown = set(rows["_shown"])
        if len(shown) == 1:
            variant_of[unit] = next(iter(shown))
        elif experiment.multiple_exposures == "first":
            earliest = rows[rows["_ts"] == t0]
            variant_of[unit] = min(earliest["_shown"])
        else:
            variant_of[unit] = None  # excluded: its exposures go to pseudo-variants
        if variant_of[unit] is not None:
            units.append((unit, variant_of[unit], t0))
    frame["_variant"] = [
        variant_of[unit] if variant_of[unit] is not None else MULTIPLE_EXPOSURES_PREFIX + shown
        for unit, shown in zip(frame["_unit"], frame["_shown"], strict=True)
    ]
    evaluated = pd.DataFrame.from_records(units, columns=["_unit", "_variant", "_t0"])
    evaluated["_t0"] = pd.to_datetime(evaluated["_t0"])
    return frame, evaluated


def attributed(
    exposures: pd.DataFrame,
    events: pd.DataFrame,
    experiment: Experiment,
    source: ExposuresSource,
    window: AttributionWindow | None = None,
) -> pd.DataFrame:
    """The experiment's exposures and attributed events as a seed-layout table.

    Columns :data:`ATTRIBUTED_COLUMNS` then the dimension columns: the exposure log's (on exposure
    rows; NULL on events) and the events' (on events; NULL on exposure rows), a name in both
    tables holding each row's own table's value. ``agg_type`` is NULL: read the table with
    :data:`SEED_SOURCE_COLUMNS` (no aggregation type). ``date`` is the row's timestamp's date, for
    information: the experiment's dates are applied here already.

    :param window: the attribution window (default: the experiment's own,
        ``experiment.attribution_window()``).
    """
    window = window or experiment.attribution_window()
    unit_type = source.exposures.unit_type
    exposure_names = source.exposures.columns
    event_names = source.events[0].columns
    used = set(source.exposures.dimensions) | set(source.events[0].dimensions) | _referenced(experiment)
    core = set(ATTRIBUTED_COLUMNS)
    exposure_dims = _dimension_names(exposures, used, set(exposure_names.model_dump().values()) | core)
    event_dims = _dimension_names(
        events,
        used,
        {n for n in event_names.model_dump().values() if n} | core | {source.events[0].partition_date or ""},
    )
    dimensions = list(dict.fromkeys([*exposure_dims, *event_dims]))

    shown, units = _exposed_units(exposures, experiment, source)
    exposure_rows = pd.DataFrame(
        {
            "exp_id": experiment.id,
            "exp_variant_id": shown["_variant"].to_numpy(dtype=object),
            "unit_type": unit_type,
            "agg_type": None,
            "goal": "exposure",
            "unit_id": shown["_unit"].to_numpy(dtype=object),
            "cnt": np.ones(len(shown)),
            "value": np.full(len(shown), np.nan),
            "date": [ts.date() for ts in pd.to_datetime(shown["_ts"])],
        },
        columns=list(ATTRIBUTED_COLUMNS),
    )
    for name in dimensions:
        exposure_rows[name] = shown[name].astype(object).to_numpy() if name in exposure_dims else None

    frame = events
    valid = (frame[event_names.unit_id].notna() & frame[event_names.timestamp].notna()).to_numpy(dtype=bool)
    frame = frame[valid]
    frame = frame[(frame[event_names.goal].astype(str) != "exposure").to_numpy(dtype=bool)].copy()
    frame["_unit"] = frame[event_names.unit_id].astype(str).to_numpy()
    frame["_ts"] = pd.to_datetime(frame[event_names.timestamp]).to_numpy()
    joined = frame.merge(units, on="_unit", how="inner")
    begin = joined["_t0"] + pd.Timedelta(seconds=window.delay_seconds)
    keep = (joined["_ts"] >= begin).to_numpy(dtype=bool, copy=True)
    if window.length_seconds is not None:
        keep &= (joined["_ts"] < begin + pd.Timedelta(seconds=window.length_seconds)).to_numpy(dtype=bool)
    _, end = _bounds(experiment)
    if end is not None:
        keep &= (joined["_ts"] < end).to_numpy(dtype=bool)
    joined = joined[keep]
    if event_names.count is not None:
        counts = joined[event_names.count].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        counts = np.ones(len(joined))
    if event_names.value is not None:
        values = joined[event_names.value].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        values = np.full(len(joined), np.nan)
    event_rows = pd.DataFrame(
        {
            "exp_id": experiment.id,
            "exp_variant_id": joined["_variant"].to_numpy(dtype=object),
            "unit_type": unit_type,
            "agg_type": None,
            "goal": joined[event_names.goal].astype(str).to_numpy(dtype=object),
            "unit_id": joined["_unit"].to_numpy(dtype=object),
            "cnt": counts,
            "value": values,
            "date": [ts.date() for ts in pd.to_datetime(joined["_ts"])],
        },
        columns=list(ATTRIBUTED_COLUMNS),
    )
    for name in dimensions:
        event_rows[name] = joined[name].astype(object).to_numpy() if name in event_dims else None

    result = pd.concat([exposure_rows, event_rows], ignore_index=True)
    for name in dimensions:  # NULLs as None, whatever the source column's dtype
        column = result[name].astype(object)
        result[name] = column.where(column.notna(), None)
    return result


def _referenced(experiment: Experiment) -> set[str]:
    """Dimension names the experiment's goal terms and filters read."""
    names = set(experiment.dimension_names())
    names.update(item.dimension for item in experiment.filters if item.dimension is not None)
    return names


def _seed_inputs(
    exposures: pd.DataFrame, events: pd.DataFrame, experiment: Experiment, source: ExposuresSource
) -> tuple[pd.DataFrame, Experiment, Source]:
    return attributed(exposures, events, experiment, source), _undated(experiment), _seed_source(source)


def goal_rows(
    exposures: pd.DataFrame, events: pd.DataFrame, experiment: Experiment, source: ExposuresSource
) -> pd.DataFrame:
    """The goal-rows contract over the exposures layout (pseudo-variants' exposure terms included)."""
    experiment.require_metric_rows("compute goal rows")
    frame, seed_experiment, seed_source = _seed_inputs(exposures, events, experiment, source)
    rows = reference.goal_rows(frame, seed_experiment, seed_source)
    rows["exp_id"] = experiment.id
    return rows


def unit_rows(
    exposures: pd.DataFrame, events: pd.DataFrame, experiment: Experiment, source: ExposuresSource
) -> pd.DataFrame:
    """The unit-rows contract over the exposures layout (pseudo-variants' exposure terms included)."""
    experiment.require_metric_rows("compute unit rows", per_unit=True)
    frame, seed_experiment, seed_source = _seed_inputs(exposures, events, experiment, source)
    rows = reference.unit_rows(frame, seed_experiment, seed_source)
    if not experiment.cuped_metrics():
        return rows
    # CUPED: each unit's pre-period SUM(cnt), SUM(value) per goal term (0 where it has none: the
    # exposure term always); a unit and term with pre-period events only gets count = sum_value = 0.
    kept = reference.filtered_events(frame, seed_experiment, seed_source)
    pre = _pre_period_scoped(exposures, events, experiment, source, set(_unit_keys(kept)))
    dimension_names = experiment.dimension_names()
    keys = [*UNIT_KEYS, *dimension_names]
    parts = []
    for key in experiment.goal_keys():
        sums = reference.per_unit_sums(pre[reference.goal_mask(pre, key, seed_source)], seed_source)
        sums = sums.reset_index()
        labels = key.dimension_labels
        part = {
            "exp_id": experiment.id,
            "exp_variant_id": sums["variant"],
            "unit_type": key.unit_type,
            "agg_type": key.agg_type,
            "goal": key.goal,
            "unit_id": sums["unit"],
            **{name: labels.get(name, "") for name in dimension_names},
            "pre_count": sums["cnt"],
            "pre_sum_value": sums["value"],
        }
        parts.append(pd.DataFrame(part, columns=[*keys, *UNIT_COVARIATE_VALUES]))
    pre_rows = pd.concat(parts, ignore_index=True)
    for name in keys:  # merge on text: labels and ids are text in both frames
        rows[name] = rows[name].astype(object)
        pre_rows[name] = pre_rows[name].astype(object)
    merged = rows.merge(pre_rows, on=keys, how="outer", validate="one_to_one")
    for name in (*UNIT_VALUES, *UNIT_COVARIATE_VALUES):
        merged[name] = merged[name].astype(float).fillna(0.0)
    return merged[[*keys, *UNIT_VALUES, *UNIT_COVARIATE_VALUES]].reset_index(drop=True)


def _is_pseudo(frame: pd.DataFrame) -> np.ndarray:
    return frame["exp_variant_id"].astype(str).str.startswith(MULTIPLE_EXPOSURES_PREFIX).to_numpy(dtype=bool)


def _unit_keys(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["exp_variant_id"].astype(str), frame["unit_id"].astype(str), strict=True))


def metric_rows(
    exposures: pd.DataFrame,
    events: pd.DataFrame,
    experiment: Experiment,
    source: ExposuresSource,
    *,
    pseudo_variant_metrics: bool = True,
) -> pd.DataFrame:
    """The metric-rows contract over the exposures layout.

    Each metric and check is computed over the table attributed with its own window, restricted to
    the units the experiment's exposure and trigger filters keep (those read the experiment's
    window); goal filters apply to each. The ``@exposure`` row covers the real variants and the
    pseudo-variants. A winsorized metric's percentiles pool the real variants' units only.

    :param pseudo_variant_metrics: give each pseudo-variant (``@multiple:<variant>``) a row for
        every metric and check too, its units evaluated as units with exposures and no events (a
        winsorized metric's x clipped to the real units' percentiles); ``False``: the
        ``@exposure`` row only.
    """
    seed_source = _seed_source(source)
    base = attributed(exposures, events, experiment, source)
    undated = _undated(experiment)
    kept = reference.filtered_events(base, undated, seed_source)
    units = set(_unit_keys(kept[~_is_pseudo(kept)]))
    goal_filters = [item for item in experiment.filters if item.scope == "goal"]
    pseudo = kept[_is_pseudo(kept)]

    parts = []
    items: list[Metric | Check] = [*experiment.metrics, *experiment.checks]
    for item in items:
        window = experiment.attribution_window(item)
        own = window != experiment.attribution_window()
        frame = attributed(exposures, events, experiment, source, window) if own else base
        frame = frame[~_is_pseudo(frame)]
        frame = frame[np.asarray([key in units for key in _unit_keys(frame)], dtype=bool)]
        is_metric = isinstance(item, Metric)
        only = {"metrics": [item] if is_metric else [], "checks": [] if is_metric else [item]}
        item_experiment = _undated(experiment, filters=goal_filters, **only)
        rows = reference.metric_rows(frame, item_experiment, seed_source)
        parts.append(rows[rows["metric_id"] != EXPOSURE_ROW_ID])
        if pseudo_variant_metrics and len(pseudo):
            pool = None
            if isinstance(item, Metric) and item.winsorized:
                scoped = reference.filtered_events(frame, item_experiment, seed_source)
                assert item.nominator_expr is not None
                pool = _unit_values(scoped, item.nominator_expr, experiment, seed_source)
            parts.append(_pseudo_rows(pseudo, item, pool, experiment, seed_source))
    # The exposure rows, real variants and pseudo-variants alike.
    parts.append(reference.metric_rows(base, _undated(experiment, metrics=[], checks=[]), seed_source))
    rows = pd.concat([part for part in parts if len(part)], ignore_index=True)
    rows["exp_id"] = experiment.id
    if experiment.cuped_metrics():
        rows = _with_covariates(
            rows,
            exposures,
            events,
            experiment,
            source,
            units,
            pseudo if pseudo_variant_metrics else pseudo[:0],
            base,
        )
    return rows


def lookback_seconds(experiment: Experiment) -> int:
    """``cuped_lookback_days`` in whole seconds."""
    assert experiment.cuped_lookback_days is not None
    seconds = Decimal(repr(experiment.cuped_lookback_days)) * 86400
    assert seconds == seconds.to_integral_value(), "a lookback of whole seconds"
    return int(seconds)


def pre_period(
    exposures: pd.DataFrame, events: pd.DataFrame, experiment: Experiment, source: ExposuresSource
) -> pd.DataFrame:
    """The CUPED pre-period events of the evaluated units as a seed-layout table (no exposure rows):
    each unit's events with ``t0 - lookback <= ts < t0`` (:func:`attributed` with the window that
    starts ``lookback`` before ``t0`` and lasts ``lookback``; its ``ts < date_until + 1 day`` bound
    holds for every ``ts < t0``; there is no lower bound from ``date_from``)."""
    seconds = lookback_seconds(experiment)
    frame = attributed(exposures, events, experiment, source, AttributionWindow(-seconds, seconds))
    # The exposure rows are the exposure log's (events whose goal is ``exposure`` were dropped).
    return frame[(frame["goal"] != "exposure").to_numpy(dtype=bool)]


def _pre_period_scoped(
    exposures: pd.DataFrame,
    events: pd.DataFrame,
    experiment: Experiment,
    source: ExposuresSource,
    units: set[tuple[str, str]],
) -> pd.DataFrame:
    """The pre-period events of ``units`` (variant, unit id) after the experiment's goal filters
    (exposure and trigger filters chose ``units``: pre-period events never count as triggers)."""
    pre = pre_period(exposures, events, experiment, source)
    pre = pre[np.asarray([key in units for key in _unit_keys(pre)], dtype=bool)]
    goal_filters = [item for item in experiment.filters if item.scope == "goal"]
    only = _undated(experiment, filters=goal_filters, metrics=[], checks=[])
    return reference.filtered_events(pre, only, _seed_source(source))


def _covariate_sums(x: np.ndarray, y: np.ndarray, xc: np.ndarray, yc: np.ndarray) -> dict[str, float]:
    return {
        "sum_xc": xc.sum(),
        "sum_xc2": (xc * xc).sum(),
        "sum_yc": yc.sum(),
        "sum_yc2": (yc * yc).sum(),
        "sum_xc_yc": (xc * yc).sum(),
        "sum_x_xc": (x * xc).sum(),
        "sum_x_yc": (x * yc).sum(),
        "sum_y_xc": (y * xc).sum(),
        "sum_y_yc": (y * yc).sum(),
    }


def _quantiles(pool: pd.Series, metric: Metric) -> tuple[float | None, float | None]:
    """ep-stats' winsorization bounds over ``pool`` (a side ``None`` when not capped)."""
    lower, upper = metric.outlier_lower_percentile, metric.outlier_upper_percentile
    low = float(pool.quantile(lower / 100)) if lower else None
    high = float(pool.quantile(1 - upper / 100)) if upper else None
    return low, high


def _with_covariates(
    rows: pd.DataFrame,
    exposures: pd.DataFrame,
    events: pd.DataFrame,
    experiment: Experiment,
    source: ExposuresSource,
    units: set[tuple[str, str]],
    pseudo: pd.DataFrame,
    base: pd.DataFrame,
) -> pd.DataFrame:
    """``rows`` with :data:`METRIC_COVARIATE_VALUES`: the sums over each variant's units of the
    adjusted metrics' per-unit covariates (xc, yc: the nominator and denominator over the unit's
    pre-period events, an exposure term being 1, xc winsorized like x over the real units' xc) and
    their products with x and y; NULL on every other row.

    :param units: the real variants' evaluated units (after the exposure and trigger filters).
    :param pseudo: the pseudo-variants' filtered exposure rows (empty: no pseudo-variant metric rows).
    :param base: :func:`attributed` with the experiment's window (reused for metrics of that window).
    """
    seed_source = _seed_source(source)
    goal_filters = [item for item in experiment.filters if item.scope == "goal"]
    only = _undated(experiment, filters=goal_filters, metrics=[], checks=[])
    pre = _pre_period_scoped(exposures, events, experiment, source, units)
    exposure_key = experiment.exposure_goal.key
    pseudo_index = reference.per_unit_sums(
        pseudo[reference.goal_mask(pseudo, exposure_key, seed_source)], seed_source
    ).index
    found: dict[tuple[str, str], dict[str, float]] = {}
    for metric in experiment.cuped_metrics():
        window = experiment.attribution_window(metric)
        own = window != experiment.attribution_window()
        frame = attributed(exposures, events, experiment, source, window) if own else base
        frame = frame[~_is_pseudo(frame)]
        frame = frame[np.asarray([key in units for key in _unit_keys(frame)], dtype=bool)]
        scoped = reference.filtered_events(frame, only, seed_source)
        index = reference.per_unit_sums(
            scoped[reference.goal_mask(scoped, exposure_key, seed_source)], seed_source
        ).index
        x = _evaluate(scoped, index, metric.nominator_expr, seed_source)
        y = _evaluate(scoped, index, metric.denominator_expr, seed_source)
        xc = _evaluate(pre, index, metric.nominator_expr, seed_source, exposure_as_one=True)
        yc = _evaluate(pre, index, metric.denominator_expr, seed_source, exposure_as_one=True)
        # The pseudo-variants' units: exposures, no events, no pre-period events.
        px = _evaluate(pseudo, pseudo_index, metric.nominator_expr, seed_source)
        py = _evaluate(pseudo, pseudo_index, metric.denominator_expr, seed_source)
        pxc = _evaluate(pre[:0], pseudo_index, metric.nominator_expr, seed_source, exposure_as_one=True)
        pyc = _evaluate(pre[:0], pseudo_index, metric.denominator_expr, seed_source, exposure_as_one=True)
        if metric.winsorized:
            low, high = _quantiles(x, metric)
            x, px = x.clip(lower=low, upper=high), px.clip(lower=low, upper=high)
            low, high = _quantiles(xc, metric)
            xc, pxc = xc.clip(lower=low, upper=high), pxc.clip(lower=low, upper=high)
        for values in ((x, y, xc, yc), (px, py, pxc, pyc)):
            variants = values[0].index.get_level_values("variant")
            for variant in sorted(set(variants)):
                keep = np.asarray(variants == variant, dtype=bool)
                arrays = [v.to_numpy(dtype=float)[keep] for v in values]
                sums = _covariate_sums(*arrays)
                sums["n"], sums["sum_x"], sums["sum_y"] = keep.sum(), arrays[0].sum(), arrays[1].sum()
                found[variant, metric_row_id(metric.id)] = sums
    rows = rows.copy()
    for name in METRIC_COVARIATE_VALUES:
        rows[name] = np.nan
    for position, key in enumerate(zip(rows["exp_variant_id"].astype(str), rows["metric_id"], strict=True)):
        if key in found:
            sums = found.pop(key)
            # The same units and x, y as the metric's own columns (the oracle checks itself).
            assert sums["n"] == rows["n"].iloc[position], (key, sums["n"], rows["n"].iloc[position])
            for name in ("sum_x", "sum_y"):
                assert np.isclose(sums[name], rows[name].iloc[position], rtol=1e-9, atol=1e-9), (key, name)
            for name in METRIC_COVARIATE_VALUES:
                rows.loc[rows.index[position], name] = sums[name]
    assert not found, f"covariates of no metric row: {sorted(found)}"
    return rows


def assert_rows_equal(actual: pd.DataFrame, expected: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    """:func:`expsql.testing.reference.assert_rows_equal`, with the CUPED columns
    (:data:`METRIC_COVARIATE_VALUES`, :data:`UNIT_COVARIATE_VALUES`) compared as numbers to a
    relative tolerance, NULL equal to NULL only."""
    covariates = [c for c in expected.columns if c in (*METRIC_COVARIATE_VALUES, *UNIT_COVARIATE_VALUES)]
    assert list(actual.columns) == list(expected.columns), (list(actual.columns), list(expected.columns))
    reference.assert_rows_equal(actual.drop(columns=covariates), expected.drop(columns=covariates), rtol=rtol)
    if not covariates:
        return
    keys = [c for c in expected.columns if c not in (*METRIC_VALUES, *UNIT_VALUES, *covariates)]

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        text = frame.copy()
        for key in keys:
            text[key] = text[key].astype(str)
        return text.sort_values(keys, kind="stable").reset_index(drop=True)

    left, right = ordered(actual), ordered(expected)

    def numbers(column: pd.Series) -> np.ndarray:  # NULL (None, NaN, NA) as NaN
        return pd.to_numeric(column.astype(object).where(column.notna(), np.nan)).to_numpy(dtype=float)

    for column in covariates:
        got, want = numbers(left[column]), numbers(right[column])
        null = np.isnan(want)
        np.testing.assert_array_equal(np.isnan(got), null, err_msg=f"{column}: NULL where expected")
        np.testing.assert_allclose(got[~null], want[~null], rtol=rtol, atol=1e-9, err_msg=column)


def _pseudo_rows(
    pseudo: pd.DataFrame,
    item: Metric | Check,
    pool: pd.Series | None,
    experiment: Experiment,
    source: Source,
) -> pd.DataFrame:
    """A metric's or check's rows of the pseudo-variants (``pseudo``: their filtered exposure rows);
    ``pool``: the real units' nominators a winsorized metric's percentiles are taken from."""
    denominator = _unit_values(pseudo, item.denominator_expr, experiment, source)
    if item.nominator_expr is None:
        nominator = denominator * 0
    else:
        nominator = _unit_values(pseudo, item.nominator_expr, experiment, source)
    if pool is not None:
        assert isinstance(item, Metric)
        lower, upper = item.outlier_lower_percentile, item.outlier_upper_percentile
        low = float(pool.quantile(lower / 100)) if lower else None
        high = float(pool.quantile(1 - upper / 100)) if upper else None
        nominator = nominator.clip(lower=low, upper=high)
    metric_id = metric_row_id(item.id) if isinstance(item, Metric) else check_row_id(item.id)
    records = []
    variants = nominator.index.get_level_values("variant")
    for variant in sorted(set(variants)):
        x = nominator[variants == variant].to_numpy(dtype=float)
        y = denominator[variants == variant].to_numpy(dtype=float)
        records.append(
            {
                "exp_id": experiment.id,
                "exp_variant_id": variant,
                "metric_id": metric_id,
                "n": len(x),
                "sum_x": x.sum(),
                "sum_x2": (x * x).sum(),
                "sum_y": y.sum(),
                "sum_y2": (y * y).sum(),
                "sum_xy": (x * y).sum(),
            }
        )
    return pd.DataFrame.from_records(records, columns=[*METRIC_KEYS, *METRIC_VALUES])


def _unit_values(scoped: pd.DataFrame, expression: Expr, experiment: Experiment, source: Source) -> pd.Series:
    """An expression's value per exposed unit (variant, unit id) of an already filtered table."""
    exposed = reference.per_unit_sums(
        scoped[reference.goal_mask(scoped, experiment.exposure_goal.key, source)], source
    )
    return _evaluate(scoped, exposed.index, expression, source)


def _evaluate(
    scoped: pd.DataFrame,
    index: pd.Index,
    expression: Expr,
    source: Source,
    *,
    exposure_as_one: bool = False,
) -> pd.Series:
    """An expression's value per unit of ``index`` (variant, unit id) over the rows of ``scoped``
    (a unit without rows of a term has 0 for it; a division by zero gives 0).

    :param exposure_as_one: every term of the goal ``exposure`` is 1 per unit (a covariate: the
        pre-period has no exposures).
    """

    def evaluate(node: Expr) -> np.ndarray:
        if isinstance(node, Number):
            return np.full(len(index), float(node.value), dtype=float)
        if isinstance(node, Goal):
            if exposure_as_one and node.goal == "exposure":
                return np.ones(len(index), dtype=float)
            sums = reference.per_unit_sums(scoped[reference.goal_mask(scoped, node.key, source)], source)
            sums = sums.reindex(index, fill_value=0.0)
            counts = sums["cnt"].to_numpy(dtype=float)
            if node.function == "count":
                return counts
            if node.function == "value":
                return sums["value"].to_numpy(dtype=float)
            return (counts > 0).astype(float)
        if isinstance(node, Negate):
            return -evaluate(node.operand)
        assert isinstance(node, BinaryOp)
        left, right = evaluate(node.left), evaluate(node.right)
        if node.operator == "+":
            return left + right
        if node.operator in ("-", "~"):
            return left - right
        if node.operator == "*":
            return left * right
        quotient = np.zeros_like(left)
        np.divide(left, right, out=quotient, where=right != 0)
        return quotient

    return pd.Series(evaluate(expression), index=index)
