"""An independent pandas computation of both row contracts, the oracle for the compiled SQL.

Written from the contracts in :mod:`expsql.contracts` (and DESIGN.md), not from the compiler:
it shares only the models (:class:`~expsql.models.Experiment`, :class:`~expsql.source.Source`)
and the AST. Engine-agnostic: give it the same DataFrame that was loaded into the engine
(:func:`expsql.testing.events.generate_events`) and compare with what the engine returned, e.g. through
:func:`assert_rows_equal`.

- :func:`goal_rows`: one row per variant and goal term with at least one matching event;
  per unit sums first, squares after.
- :func:`unit_rows`: one row per variant, goal term and unit with at least one matching event:
  the unit's ``SUM(cnt)`` and ``SUM(value)``.
- :func:`metric_rows`: per exposed unit, each metric's nominator and denominator evaluated from
  the unit's goal terms, then ``n, sum_x, sum_x2, sum_y, sum_y2, sum_xy`` per variant; plus the
  check rows and the exposure row.

Both read the events through :func:`filtered_events`: the experiment's filters as
:mod:`expsql.models` documents them (goal filters drop events, exposure and trigger filters drop
units), applied to the DataFrame with masks and sets of units.

String comparisons (``product<p_2``) follow Python's code-point order, which is what DuckDB does;
engines with a locale collation may order some strings differently.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd

from expsql.contracts import (
    EXPOSURE_ROW_ID,
    GOAL_KEYS,
    GOAL_VALUES,
    METRIC_CLUSTER_VALUES,
    METRIC_KEYS,
    METRIC_QUANTILE_VALUES,
    METRIC_VALUES,
    UNIT_KEYS,
    UNIT_VALUES,
    check_row_id,
    metric_row_id,
)
from expsql.grammar.ast import BinaryOp, Dimension, Expr, Goal, GoalKey, Negate, Number
from expsql.models import Experiment, Filter, Metric
from expsql.source import DimensionType, Source
from expsql.testing.quantile_reference import empty_quantile_columns, event_quantile_row, unit_quantile_row


def typed_value(text: str, dimension_type: DimensionType) -> object:
    """A dimension filter's value as the column's type (``"10"`` → ``10`` on an integer column)."""
    if dimension_type == "integer":
        return int(text)
    if dimension_type == "float":
        return float(text)
    if dimension_type == "boolean":
        return {"true": True, "false": False}[text.lower()]
    if dimension_type == "date":
        return dt.date.fromisoformat(text)
    return text


def dimension_mask(column: pd.Series, dimension: Dimension, dimension_type: DimensionType) -> np.ndarray:
    """Which rows a dimension filter keeps; a missing value matches no filter, not even ``!=``."""
    present = column.notna().to_numpy(dtype=bool)
    values = [typed_value(v, dimension_type) for v in dimension.values]
    cells = column.astype(object).where(column.notna(), None).to_numpy()
    if dimension.operator == "=^":
        hits = [c is not None and any(str(c).startswith(str(v)) for v in values) for c in cells]
        return np.asarray(hits, dtype=bool)
    if dimension.operator in ("=", "!="):
        inside = np.asarray([c is not None and c in values for c in cells], dtype=bool)
        return inside if dimension.operator == "=" else present & ~inside
    (value,) = values
    compare = {
        "<": lambda c: c < value,
        ">": lambda c: c > value,
        "<=": lambda c: c <= value,
        ">=": lambda c: c >= value,
    }[dimension.operator]
    return np.asarray([c is not None and compare(c) for c in cells], dtype=bool)


def experiment_events(events: pd.DataFrame, experiment: Experiment, source: Source) -> pd.DataFrame:
    """The experiment's events inside its date window ``[date_from, date_until]``."""
    columns = source.columns
    keep = (events[columns.exp_id].astype(str) == experiment.id).to_numpy(dtype=bool, copy=True)
    dates = pd.to_datetime(events[columns.date]).dt.date
    if experiment.date_from is not None:
        keep &= (dates >= experiment.date_from).to_numpy(dtype=bool)
    if experiment.date_until is not None:
        keep &= (dates <= experiment.date_until).to_numpy(dtype=bool)
    return events[keep]


def filter_values(item: Filter, dimension_type: DimensionType) -> list[object]:
    """A filter's JSON values as the column's type; text as a metric would write it (``true``)."""
    values: list[object] = []
    for value in item.value or []:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        values.append(typed_value(text, dimension_type))
    return values


def filter_mask(events: pd.DataFrame, item: Filter, source: Source) -> np.ndarray:
    """Rows whose filter column holds one of the filter's values (never a missing cell)."""
    assert item.dimension is not None
    wanted = filter_values(item, source.dimension_type(item.dimension))
    cells = events[item.dimension].astype(object).where(events[item.dimension].notna(), None)
    return np.asarray([cell is not None and cell in wanted for cell in cells], dtype=bool)


def filtered_events(events: pd.DataFrame, experiment: Experiment, source: Source) -> pd.DataFrame:
    """The experiment's events in its window, less what its filters drop.

    Goal filters first: an event other than an exposure event (the experiment's unit type, goal
    ``exposure``) that the filter is about (its goal, when it names one) stays only with the
    dimension among the values. Then each exposure or trigger filter keeps the units (variant,
    unit id) with at least one remaining event that passes it.
    """
    columns = source.columns
    scoped = experiment_events(events, experiment, source)
    unit_type = scoped[columns.unit_type].to_numpy()
    goal = scoped[columns.goal].to_numpy()
    exposure = (unit_type == experiment.unit_type) & (goal == "exposure")
    keep = np.ones(len(scoped), dtype=bool)
    for item in experiment.filters:
        if item.scope == "goal":
            about = ~exposure if item.goal is None else ~exposure & (goal == item.goal)
            keep &= ~about | filter_mask(scoped, item, source)
    scoped = scoped[keep]
    for item in experiment.filters:
        if item.scope == "goal":
            continue
        wanted = "exposure" if item.scope == "exposure" else item.goal
        passing = (scoped[columns.unit_type] == experiment.unit_type).to_numpy() & (
            scoped[columns.goal] == wanted
        ).to_numpy()
        if item.dimension is not None:
            passing &= filter_mask(scoped, item, source)
        units = set(_unit_keys(scoped[passing], source))
        scoped = scoped[np.asarray([key in units for key in _unit_keys(scoped, source)], dtype=bool)]
    return scoped


def _unit_keys(events: pd.DataFrame, source: Source) -> list[tuple[str, str]]:
    columns = source.columns
    return list(
        zip(events[columns.exp_variant_id].astype(str), events[columns.unit_id].astype(str), strict=True)
    )


def goal_mask(events: pd.DataFrame, key: GoalKey, source: Source) -> np.ndarray:
    """Rows that are events of a goal term (unit type, aggregation type, goal and dimensions)."""
    columns = source.columns
    mask = (events[columns.unit_type] == key.unit_type).to_numpy(dtype=bool, copy=True)
    mask &= (events[columns.goal] == key.goal).to_numpy(dtype=bool)
    if columns.agg_type is not None:
        mask &= (events[columns.agg_type] == key.agg_type).to_numpy(dtype=bool)
    for dimension in key.dimensions:
        mask &= dimension_mask(events[dimension.name], dimension, source.dimension_type(dimension.name))
    return mask


def per_unit_sums(events: pd.DataFrame, source: Source) -> pd.DataFrame:
    """``cnt`` and ``value`` summed per (variant, unit), missing values counting as 0."""
    columns = source.columns
    frame = pd.DataFrame(
        {
            "variant": events[columns.exp_variant_id].astype(str).to_numpy(),
            "unit": events[columns.unit_id].astype(str).to_numpy(),
            "cnt": events[columns.cnt].astype("Float64").fillna(0).to_numpy(dtype=float),
            "value": events[columns.value].astype("Float64").fillna(0).to_numpy(dtype=float),
        }
    )
    return frame.groupby(["variant", "unit"], sort=True)[["cnt", "value"]].sum()


def goal_rows(events: pd.DataFrame, experiment: Experiment, source: Source | None = None) -> pd.DataFrame:
    """The goal-rows contract computed in pandas (see the module docstring)."""
    source = source or Source()
    scoped = filtered_events(events, experiment, source)
    dimension_names = experiment.dimension_names()
    records = []
    for key in experiment.goal_keys():
        units = per_unit_sums(scoped[goal_mask(scoped, key, source)], source)
        labels = key.dimension_labels
        for variant, per_unit in units.groupby(level="variant"):
            counts, values = per_unit["cnt"], per_unit["value"]
            records.append(
                {
                    "exp_id": experiment.id,
                    "exp_variant_id": variant,
                    "unit_type": key.unit_type,
                    "agg_type": key.agg_type,
                    "goal": key.goal,
                    **{name: labels.get(name, "") for name in dimension_names},
                    "count": counts.sum(),
                    "sum_sqr_count": (counts**2).sum(),
                    "sum_value": values.sum(),
                    "sum_sqr_value": (values**2).sum(),
                    "count_unique": int((counts > 0).sum()),
                }
            )
    return pd.DataFrame.from_records(records, columns=[*GOAL_KEYS, *dimension_names, *GOAL_VALUES])


def unit_rows(events: pd.DataFrame, experiment: Experiment, source: Source | None = None) -> pd.DataFrame:
    """The unit-rows contract computed in pandas (see the module docstring)."""
    source = source or Source()
    scoped = filtered_events(events, experiment, source)
    dimension_names = experiment.dimension_names()
    parts = []
    for key in experiment.goal_keys():
        sums = per_unit_sums(scoped[goal_mask(scoped, key, source)], source).reset_index()
        labels = key.dimension_labels
        part = {
            "exp_id": experiment.id,
            "exp_variant_id": sums["variant"],
            "unit_type": key.unit_type,
            "agg_type": key.agg_type,
            "goal": key.goal,
            "unit_id": sums["unit"],
            **{name: labels.get(name, "") for name in dimension_names},
            "count": sums["cnt"],
            "sum_value": sums["value"],
        }
        parts.append(pd.DataFrame(part, columns=[*UNIT_KEYS, *dimension_names, *UNIT_VALUES]))
    return pd.concat(parts, ignore_index=True)


def metric_rows(events: pd.DataFrame, experiment: Experiment, source: Source | None = None) -> pd.DataFrame:
    """The metric-rows contract computed in pandas (see the module docstring)."""
    source = source or Source()
    scoped = filtered_events(events, experiment, source)
    exposure_key = experiment.exposure_goal.key
    exposed = per_unit_sums(scoped[goal_mask(scoped, exposure_key, source)], source)
    units = exposed.index
    cache: dict[GoalKey, pd.DataFrame] = {}

    def term(goal: Goal) -> np.ndarray:
        if goal.key not in cache:
            sums = per_unit_sums(scoped[goal_mask(scoped, goal.key, source)], source)
            cache[goal.key] = sums.reindex(units, fill_value=0.0)
        sums = cache[goal.key]
        if goal.function == "count":
            return sums["cnt"].to_numpy(dtype=float)
        if goal.function == "value":
            return sums["value"].to_numpy(dtype=float)
        return (sums["cnt"].to_numpy(dtype=float) > 0).astype(float)

    def evaluate(node: Expr) -> np.ndarray:
        if isinstance(node, Number):
            value = float(node.value) if isinstance(node.value, Decimal) else node.value
            return np.full(len(units), value, dtype=float)
        if isinstance(node, Goal):
            return term(node)
        if isinstance(node, Negate):
            return -evaluate(node.operand)
        assert isinstance(node, BinaryOp)
        left, right = evaluate(node.left), evaluate(node.right)
        if node.operator in ("+",):
            return left + right
        if node.operator in ("-", "~"):
            return left - right
        if node.operator == "*":
            return left * right
        quotient = np.zeros_like(left)
        np.divide(left, right, out=quotient, where=right != 0)
        return quotient

    pairs: list[tuple[str, np.ndarray, np.ndarray]] = []
    for metric in experiment.metrics:
        x, y = evaluate(metric.nominator_expr), evaluate(metric.denominator_expr)
        pairs.append((metric_row_id(metric.id), winsorized(x, metric), y))
    for check in experiment.checks:
        denominator = evaluate(check.denominator_expr)
        nominator = evaluate(check.nominator_expr) if check.nominator_expr is not None else 0 * denominator
        pairs.append((check_row_id(check.id), nominator, denominator))
    exposures = exposed["cnt"].to_numpy(dtype=float)
    pairs.append((EXPOSURE_ROW_ID, exposures, exposures))

    variants = units.get_level_values("variant").to_numpy()
    quantiles = {metric_row_id(m.id): m for m in experiment.quantile_metrics()}
    events_of: dict[str, pd.DataFrame] = {}
    for metric_id, metric in quantiles.items():
        if metric.event_quantile:
            assert isinstance(metric.nominator_expr, Goal)
            chosen = scoped[goal_mask(scoped, metric.nominator_expr.key, source)]
            keys = pd.MultiIndex.from_arrays(
                [
                    chosen[source.columns.exp_variant_id].astype(str),
                    chosen[source.columns.unit_id].astype(str),
                ]
            )
            values = chosen[source.columns.value].astype("Float64").fillna(0).to_numpy(dtype=float)
            events_of[metric_id] = pd.DataFrame(
                {"variant": keys.get_level_values(0), "unit": keys.get_level_values(1), "value": values}
            )[keys.isin(units)]
    records = []
    for metric_id, x, y in pairs:
        for variant in sorted(set(variants)):
            keep = variants == variant
            xs, ys = x[keep], y[keep]
            records.append(
                {
                    "exp_id": experiment.id,
                    "exp_variant_id": variant,
                    "metric_id": metric_id,
                    "n": int(keep.sum()),
                    "sum_x": xs.sum(),
                    "sum_x2": (xs * xs).sum(),
                    "sum_y": ys.sum(),
                    "sum_y2": (ys * ys).sum(),
                    "sum_xy": (xs * ys).sum(),
                }
            )
            if quantiles:
                records[-1] |= quantile_record(
                    quantiles.get(metric_id), xs, events_of.get(metric_id), variant
                )
    extra = (*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES) if quantiles else ()
    return pd.DataFrame.from_records(records, columns=[*METRIC_KEYS, *METRIC_VALUES, *extra])


def quantile_record(
    metric: Metric | None, xs: np.ndarray, events: pd.DataFrame | None, variant: str
) -> dict[str, object]:
    """A metric row's quantile columns (:mod:`expsql.testing.quantile_reference`): NULL unless ``metric``
    is a quantile metric; its per-unit ``xs`` or, for an event quantile, its ``events`` of this
    variant's units."""
    if metric is None or metric.quantile is None:
        return empty_quantile_columns()
    if events is None:
        return unit_quantile_row(xs, metric.quantile, metric.ignore_zeros)
    mine = events[events["variant"] == variant]
    per_unit = [group["value"].to_numpy() for _, group in mine.groupby("unit", sort=True)]
    return event_quantile_row(per_unit, metric.quantile, metric.ignore_zeros)


def winsorized(x: np.ndarray, metric: Metric) -> np.ndarray:
    """ep-stats' outlier winsorization: ``x`` clipped to pandas' pooled quantiles at
    ``l / 100`` and ``1 - u / 100`` of every exposed unit's ``x`` (a side skipped when 0 or None)."""
    pooled = pd.Series(x)
    lower, upper = metric.outlier_lower_percentile, metric.outlier_upper_percentile
    low = float(pooled.quantile(lower / 100)) if lower else None
    high = float(pooled.quantile(1 - upper / 100)) if upper else None
    return pooled.clip(lower=low, upper=high).to_numpy(dtype=float)


def assert_rows_equal(actual: pd.DataFrame, expected: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    """Same rows in any order: keys and counts exactly, sums to a relative tolerance."""
    assert list(actual.columns) == list(expected.columns), (list(actual.columns), list(expected.columns))
    quantiles = (*METRIC_QUANTILE_VALUES, *METRIC_CLUSTER_VALUES)
    numeric = [c for c in expected.columns if c in GOAL_VALUES or c in METRIC_VALUES or c in quantiles]
    keys = [c for c in expected.columns if c not in numeric]
    left = _sorted(actual, keys)
    right = _sorted(expected, keys)
    assert len(left) == len(right), f"{len(left)} rows, expected {len(right)}"
    pd.testing.assert_frame_equal(left[keys], right[keys], check_dtype=False)
    exact = [c for c in numeric if c in ("n", "count", "sum_sqr_count", "count_unique")]
    for column in numeric:
        got = left[column].to_numpy(dtype=float)
        want = right[column].to_numpy(dtype=float)
        if column in exact:
            np.testing.assert_array_equal(got, want, err_msg=column)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-9, err_msg=column)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    text = frame.copy()
    for key in keys:
        text[key] = text[key].astype(str)
    return text.sort_values(keys, kind="stable").reset_index(drop=True)
