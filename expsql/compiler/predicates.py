"""Predicates on the events the scan reads: a goal, its dimension filters, attribution windows,
the date window and the experiment's filters, each built from the plan's typed values.

Below the source layouts and the scan: a layout's CTEs test windows with the same
:func:`window_conditions`, and the scan's WHERE and term ``CASE`` (:mod:`.scan`) are made of
these. Every name and value reaches the SQL through :mod:`.nodes`, never as text.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from expsql.compiler.nodes import column, conjunction, disjunction, literal, number
from expsql.compiler.plan import Plan, PlannedFilter
from expsql.compiler.relation import EXPOSURE
from expsql.compiler.terms import PreKey, WindowedKey
from expsql.dialects.base import Dialect
from expsql.grammar.ast import Dimension, GoalKey
from expsql.models import AttributionWindow, Experiment

#: The alias of the events table inside the scan.
EVENTS_ALIAS = "events"


#: The escape character of ``LIKE`` patterns built for ``=^`` on dialects without a prefix function.
LIKE_ESCAPE = "\\"


_COMPARISONS: dict[str, type[exp.Expression]] = {
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def event_column(name: str) -> exp.Column:
    """A column of the events table, qualified so no generated alias can shadow it."""
    return column(name, EVENTS_ALIAS)


def prefix_match(target: exp.Expression, prefix: str, dialect: Dialect) -> exp.Expression:
    """``target`` starts with ``prefix``: the dialect's function, or ``LIKE`` with an escaped pattern."""
    if dialect.native_prefix_match:
        return exp.StartsWith(this=target, expression=exp.Literal.string(prefix))
    pattern = "".join(LIKE_ESCAPE + ch if ch in ("%", "_", LIKE_ESCAPE) else ch for ch in prefix) + "%"
    like = exp.Like(this=target, expression=exp.Literal.string(pattern))
    return exp.Escape(this=like, expression=exp.Literal.string(LIKE_ESCAPE))


def dimension_predicate(plan: Plan, dimension: Dimension, dialect: Dialect) -> exp.Expression:
    """A typed filter on one dimension column; a NULL cell never passes (SQL's NULL logic)."""
    target = event_column(dimension.name)
    values = plan.typed_values(dimension)
    if dimension.operator == "=^":
        return disjunction([prefix_match(target.copy(), str(v), dialect) for v in values])
    if dimension.operator in ("=", "!="):
        literals = [literal(v) for v in values]
        if len(literals) == 1:
            equality = exp.EQ if dimension.operator == "=" else exp.NEQ
            return equality(this=target, expression=literals[0])
        inside = exp.In(this=target, expressions=literals)
        return inside if dimension.operator == "=" else exp.Not(this=inside)
    (value,) = values
    return _COMPARISONS[dimension.operator](this=target, expression=literal(value))


def goal_predicate(plan: Plan, unit_type: str, agg_type: str | None, goal: str) -> list[exp.Expression]:
    """The conditions that pick a goal's events (no ``unit_type`` or ``agg_type`` test when the
    relation has no such column)."""
    columns = plan.relation
    conditions: list[exp.Expression] = []
    if columns.unit_type is not None:
        conditions.append(
            exp.EQ(this=event_column(columns.unit_type), expression=exp.Literal.string(unit_type))
        )
    if columns.agg_type is not None and agg_type is not None:
        conditions.append(
            exp.EQ(this=event_column(columns.agg_type), expression=exp.Literal.string(agg_type))
        )
    conditions.append(exp.EQ(this=event_column(columns.goal), expression=exp.Literal.string(goal)))
    return conditions


def term_predicate(plan: Plan, key: GoalKey, dialect: Dialect) -> exp.Expression:
    """All events of one goal term: its goal, every dimension filter and its window."""
    conditions = goal_predicate(plan, key.unit_type, key.agg_type, key.goal)
    conditions.extend(key_conditions(plan, key, dialect))
    return conjunction(conditions)


def key_conditions(plan: Plan, key: GoalKey, dialect: Dialect) -> list[exp.Expression]:
    """What picks a term's events among its goal's: its dimension filters and, for a
    :class:`~expsql.compiler.terms.WindowedKey`, its metric's attribution window."""
    conditions = [dimension_predicate(plan, d, dialect) for d in key.dimensions]
    window = key.window if isinstance(key, WindowedKey) else None
    relation = plan.relation
    if window is not None:
        assert relation.event_timestamp is not None and relation.first_exposure is not None
        conditions += window_conditions(
            event_column(relation.event_timestamp),
            event_column(relation.first_exposure),
            window,
            applied=relation.applied_window,
        )
    if plan.covariates and relation.pre_period is not None and key.goal != EXPOSURE:
        period = 1 if isinstance(key, PreKey) else 0
        conditions.append(exp.EQ(this=event_column(relation.pre_period), expression=number(period)))
    return conditions


def attributed_only(plan: Plan) -> list[exp.Expression]:
    """What a trigger event must be: attributed by the experiment's own window. The relation may
    hold more: CUPED's pre-exposure events (``pre_period = 1``) and, when metrics set their own
    windows, the events of the loosest of them."""
    relation = plan.relation
    conditions: list[exp.Expression] = []
    if relation.pre_period is not None:
        conditions.append(exp.EQ(this=event_column(relation.pre_period), expression=number(0)))
    if relation.event_timestamp is not None and relation.first_exposure is not None:
        conditions += window_conditions(
            event_column(relation.event_timestamp),
            event_column(relation.first_exposure),
            plan.experiment.attribution_window(),
            applied=relation.applied_window,
        )
    return conditions


def shifted(timestamp: exp.Expression, seconds: int) -> exp.Expression:
    """``timestamp + INTERVAL seconds SECOND`` (``-`` for a negative shift; 0: the timestamp)."""
    if not seconds:
        return timestamp
    interval = exp.Interval(this=exp.Literal.number(abs(seconds)), unit=exp.Var(this="SECOND"))
    if seconds < 0:
        return exp.Sub(this=timestamp, expression=interval)
    return exp.Add(this=timestamp, expression=interval)


def window_conditions(
    timestamp: exp.Expression,
    first_exposure: exp.Expression,
    window: AttributionWindow,
    *,
    applied: AttributionWindow | None = None,
) -> list[exp.Expression]:
    """``t0 + delay <= timestamp`` and, with a length, ``timestamp < t0 + delay + length``; a
    bound the ``applied`` window already holds every event to is left out."""
    conditions: list[exp.Expression] = []
    if applied is None or window.delay_seconds != applied.delay_seconds:
        conditions.append(exp.GTE(this=timestamp, expression=shifted(first_exposure, window.delay_seconds)))
    if window.length_seconds is not None and window.end_seconds != (applied and applied.end_seconds):
        end = shifted(first_exposure.copy(), window.end_seconds)  # type: ignore[arg-type]
        conditions.append(exp.LT(this=timestamp.copy(), expression=end))
    return conditions


def date_window(target: exp.Expression, experiment: Experiment) -> list[exp.Expression]:
    """``target`` within the experiment's days: ``>= date_from`` and ``< date_until + 1 day``.

    ``< next day`` rather than ``<= last day``: the same on a DATE column, and a TIMESTAMP column
    keeps the whole last day instead of only its midnight.
    """
    conditions: list[exp.Expression] = []
    if experiment.date_from is not None:
        conditions.append(exp.GTE(this=target, expression=literal(experiment.date_from)))
    if experiment.date_until is not None:
        next_day = experiment.date_until + dt.timedelta(days=1)
        conditions.append(exp.LT(this=target.copy(), expression=literal(next_day)))
    return conditions


def exposure_event(plan: Plan) -> list[exp.Expression]:
    """An exposure event, as filters mean it: the experiment's unit type, goal ``exposure``, any
    aggregation type."""
    return goal_predicate(plan, plan.experiment.unit_type, None, "exposure")


def unit_filter_predicate(plan: Plan, item: PlannedFilter, dialect: Dialect) -> exp.Expression:
    """The events that let their unit pass an exposure or trigger filter: an exposure event (for a
    trigger filter, an event of its goal) of the experiment's unit type, any aggregation type, with
    the dimension among the values when the filter has them."""
    goal = "exposure" if item.scope == "exposure" else item.goal
    assert goal is not None, "a trigger filter has a goal (checked by the model)"
    conditions = goal_predicate(plan, plan.experiment.unit_type, None, goal)
    if item.dimension is not None:
        conditions.append(dimension_predicate(plan, item.dimension, dialect))
    if item.scope == "trigger":
        conditions += attributed_only(plan)
    return conjunction(conditions)


def unit_filter_indicator(plan: Plan, item: PlannedFilter, dialect: Dialect) -> exp.Expression:
    """1 on an event that lets its unit pass the exposure or trigger filter, else 0."""
    passes = exp.If(this=unit_filter_predicate(plan, item, dialect), true=number(1))
    return exp.Case(ifs=[passes], default=number(0))


def goal_filter_condition(plan: Plan, item: PlannedFilter, dialect: Dialect) -> exp.Expression:
    """``NOT <subject> OR <dimension> IN (...)``: events the goal filter is not about, or that pass it.

    The subject is every event but exposure events, narrowed to the filter's goal when it names
    one; its negation is written positively (``goal <> 'click'``). A NULL dimension cell makes the
    ``IN`` NULL, so a subject event with one never passes the WHERE.
    """
    assert item.dimension is not None, "a goal filter has a dimension (checked by the model)"
    columns = plan.relation
    goal = event_column(columns.goal)
    outside: list[exp.Expression]
    if item.goal is None:
        outside = [exp.Paren(this=conjunction(exposure_event(plan)))]
    elif item.goal != "exposure" or columns.unit_type is None:
        outside = [exp.NEQ(this=goal, expression=exp.Literal.string(item.goal))]
    else:  # exposure events of other unit types are subject to it, the experiment's are not
        unit_type = event_column(columns.unit_type)
        outside = [
            exp.NEQ(this=goal, expression=exp.Literal.string(item.goal)),
            exp.EQ(this=unit_type, expression=exp.Literal.string(plan.experiment.unit_type)),
        ]
    return exp.Paren(this=disjunction([*outside, dimension_predicate(plan, item.dimension, dialect)]))
