"""The row contracts between a warehouse and the stats module (DESIGN.md, "Row contracts").

**Goal rows** (ep-stats compatible): one row per ``exp_id, exp_variant_id, unit_type, agg_type,
goal`` and one column per dimension the experiment filters on, holding the goal's ep-stats label
(``p_1``, ``>1``, ``!=1``, ``^button-``) or ``''`` where that goal does not filter on it; values
``count, sum_sqr_count, sum_value, sum_sqr_value, count_unique`` summed per unit first, squared
after.

**Metric rows** (exact): one row per ``exp_id, exp_variant_id, metric_id`` with ``n`` (exposed
units), ``sum_x, sum_x2`` (per-unit nominator), ``sum_y, sum_y2`` (per-unit denominator) and
``sum_xy``. Beside the metrics, the query emits one row per check (``metric_id`` =
:func:`check_row_id`, x = the check's nominator or 0, y = its denominator) and one exposure row
(``metric_id`` = :data:`EXPOSURE_ROW_ID`, x = y = the unit's exposure count). A timeline adds
the key :data:`TIMELINE_DAY`: each row is cumulative as of the end of that day.

**Unit rows** (ep-stats' by-unit goals, what ``evaluate_by_unit`` reads): one row per
``exp_id, exp_variant_id, unit_type, agg_type, goal, unit_id`` and goal term (the dimension
columns as in goal rows) with ``count`` = the unit's ``SUM(cnt)`` and ``sum_value`` = its
``SUM(value)`` for that term; a unit has a row for each term it has an event of (units with only
an exposure have the exposure row), after the experiment's filters.

Per-unit semantics of metric rows: the units are those with at least one exposure event
(``<unit_type>.global.exposure``) in the window; a goal term of a unit is ``SUM(cnt)`` for
``count``, ``SUM(value)`` for ``value`` and ``1 if SUM(cnt) > 0 else 0`` for ``unique``, 0 when
the unit has no matching event; ``~`` is subtraction; a division by zero gives 0 for that unit.
A NULL dimension value matches no dimension filter (not even ``!=``). A winsorized metric's x
is clipped to the percentiles of every exposed unit's x before it is summed and squared
(:mod:`expsql.compiler.winsorize`); such rows are no longer additive across windows.

**Unit rows** (per unit, ep-stats' ``evaluate_by_unit`` input): one row per ``exp_id,
exp_variant_id, unit_type, agg_type, goal, unit_id`` and the dimension columns (labelled as in goal
rows) with ``count, sum_value``, the unit's ``SUM(cnt)`` and ``SUM(value)`` of that goal term. The
stats module evaluates them exactly as metric rows (compound expressions included): the units are
those whose ``<unit_type>.global.exposure`` count is above 0; the rows of one unit and goal term
are summed before any squaring. Larger than metric rows, but winsorization can be applied to them.

**Wide rows** (ep-stats' ``evaluate_wide_agg`` input) have no fixed names: one row per variant,
the experiment id first, the variant id second, then one column per goal holding its per-variant
total, and optionally ``<goal>_squared`` (any name containing ``square``) with its sum of squares.
They are read as goal rows of ``<unit_type>.global.<goal>``.
"""

from __future__ import annotations

from typing import Final

GOAL_KEYS: Final = ("exp_id", "exp_variant_id", "unit_type", "agg_type", "goal")
GOAL_VALUES: Final = ("count", "sum_sqr_count", "sum_value", "sum_sqr_value", "count_unique")

UNIT_KEYS: Final = (*GOAL_KEYS[:5], "unit_id")
UNIT_VALUES: Final = ("count", "sum_value")

METRIC_KEYS: Final = ("exp_id", "exp_variant_id", "metric_id")
METRIC_VALUES: Final = ("n", "sum_x", "sum_x2", "sum_y", "sum_y2", "sum_xy")

#: CUPED (``cuped_lookback_days``): metric rows add the sums of each unit's pre-exposure
#: nominator (xc) and denominator (yc), their squares and product, and their products with the
#: post-exposure x and y; NULL on the rows of metrics that are not adjusted.
METRIC_COVARIATE_VALUES: Final = (
    "sum_xc",
    "sum_xc2",
    "sum_yc",
    "sum_yc2",
    "sum_xc_yc",
    "sum_x_xc",
    "sum_x_yc",
    "sum_y_xc",
    "sum_y_yc",
)
#: Quantile metrics (``quantile: 0.9``): metric rows add, NULL on the rows of other metrics,
#: ``quantile_n`` (the observations: units, or events for an event quantile), ``quantile_hat``
#: (the sample quantile, interpolated as ``PERCENTILE_CONT``: position ``(n − 1)·ν``), and
#: ``quantile_lower`` / ``quantile_upper``, the same interpolation at the levels
#: ``ν ∓ z·sqrt(ν(1 − ν)/n)`` (z the normal 97.5 % quantile, clipped to [0, 1]). Only an experiment
#: with a quantile metric has these columns. None of them is additive (a quantile of a union is
#: not a sum of quantiles): segments and days each carry their own.
METRIC_QUANTILE_VALUES: Final = ("quantile_n", "quantile_hat", "quantile_lower", "quantile_upper")
#: Event quantiles (``quantile_of: event``) add the cluster sums over units of the delta-method
#: variance (Deng, Knoblich & Lu 2018): per unit ``a`` = its events at or below ``quantile_hat``,
#: ``b`` = its events; ``Σa, Σa², Σb, Σb², Σab`` and the number of units with an event. NULL on
#: every other row (unit quantiles included).
METRIC_CLUSTER_VALUES: Final = (
    "quantile_sum_a",
    "quantile_sum_a2",
    "quantile_sum_b",
    "quantile_sum_b2",
    "quantile_sum_ab",
    "quantile_units",
)
#: A breakdown's metric rows add, per quantile metric and variant, one row over every segment
#: (``metric_id`` = :func:`overall_row_id`, NULL segment columns, ``n`` and the sums 0, the
#: quantile columns of the whole variant): the overall quantile, which the segments' rows cannot
#: give, as they give every sum.
OVERALL_ROW_PREFIX: Final = "@overall:"
#: CUPED unit rows add the unit's pre-exposure ``SUM(cnt)`` and ``SUM(value)`` of the goal term.
UNIT_COVARIATE_VALUES: Final = ("pre_count", "pre_sum_value")

#: A timeline's metric rows (``timeline: daily``) add this key: the day they are cumulative to
#: (the rows of a variant as of a day without its own row are those of its latest earlier day).
TIMELINE_DAY: Final = "day"

#: ``metric_id`` of the metric-rows row whose x and y are the unit's exposure count.
EXPOSURE_ROW_ID: Final = "@exposure"

#: Exposures layout: rows whose ``exp_variant_id`` is this prefix and a variant carry the units
#: exposed to that variant and another, which are excluded from the evaluation. They are the rows
#: of units with their exposures and no events (in metric rows: every metric, check and the
#: ``@exposure`` row); the stats split them off and count them (their exposure goal's units or the
#: ``@exposure`` row's ``n``) as the MultipleExposures check.
MULTIPLE_EXPOSURES_PREFIX: Final = "@multiple:"
#: The ``check_id`` of the MultipleExposures check in an Evaluation's checks.
MULTIPLE_EXPOSURES_CHECK: Final = "multiple_exposures"


def check_row_id(check_id: int | str) -> str:
    """``metric_id`` of the metric-rows row that carries a check's nominator (x) and denominator (y)."""
    return f"@check:{check_id}"


def overall_row_id(metric_id: int | str) -> str:
    """``metric_id`` of a breakdown's overall row of a quantile metric (:data:`OVERALL_ROW_PREFIX`)."""
    return f"{OVERALL_ROW_PREFIX}{metric_id}"


def metric_row_id(metric_id: int | str) -> str:
    """``metric_id`` of a metric's row: the id as text."""
    return str(metric_id)
