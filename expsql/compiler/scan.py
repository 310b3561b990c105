"""The one scan of the events table: its names, typed dimension predicates, goal terms, the WHERE,
and the scan query every builder starts from (:func:`scan_query`, or :mod:`.term_codes`' coded scan).

Every name and value reaches the SQL through :mod:`.nodes`, never as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from expsql.compiler.nodes import (
    alias,
    column,
    conjunction,
    disjunction,
    double_or_zero,
    identifier,
    literal,
    number,
    table,
)
from expsql.compiler.plan import Plan, PlannedFilter
from expsql.compiler.relation import EXPOSURE
from expsql.compiler.terms import GoalIdentity, PreKey, WindowedKey
from expsql.contracts import MULTIPLE_EXPOSURES_PREFIX
from expsql.dialects.base import Dialect
from expsql.grammar.ast import Dimension, GoalKey
from expsql.models import AttributionWindow, Experiment

#: The alias of the events table inside the scan.
EVENTS_ALIAS = "events"
#: The escape character of ``LIKE`` patterns built for ``=^`` on dialects without a prefix function.
LIKE_ESCAPE = "\\"

#: The scan's CTE and its columns, which every builder reads.
SCAN = "experiment_events"
LAYERS = "term_layers"
LAYER = "layer_index"
VARIANT = "variant_id"
UNIT = "unit_id"
CNT = "event_cnt"
VALUE = "event_value"
TERM = "term_index"
PRE_PERIOD = "pre_period"
EXCLUDED = "excluded"

_COMPARISONS: dict[str, type[exp.Expression]] = {
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def event_column(name: str) -> exp.Column:
    """A column of the events table, qualified so no generated alias can shadow it."""
    return column(name, EVENTS_ALIAS)


def events_table(plan: Plan) -> exp.Table:
    """The relation the scan reads, as ``events``."""
    return table(plan.relation.table_parts, EVENTS_ALIAS)


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
    :class:`~expsql.compiler.plan.WindowedKey`, its metric's attribution window."""
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


def source_ctes(plan: Plan, dialect: Dialect) -> list[exp.CTE]:
    """The CTEs the source layout puts before the scan (:mod:`expsql.compiler.relation`)."""
    return plan.layout.ctes(plan, dialect)


def scan_filter(plan: Plan, dialect: Dialect) -> exp.Expression:
    """The scan's WHERE: the experiment, the date window, the goals and their dimension filters,
    the events unit filters look at (:func:`unit_filter_predicate`) and the goal filters.

    Goals are tested with ``IN`` lists, which engines evaluate (and prune partitions by) much
    faster than one ``OR`` branch per goal (measured on DuckDB: the branches cost a third of the
    whole metric-rows query). A goal read only through dimension filters keeps its exact branch,
    so its other events never leave the scan. The term ``CASE`` does the exact matching; events
    that pass this filter but match no term get a NULL term and are dropped after the scan.

    Unit filters read events of the experiment's unit type only, already among the unit types of
    the terms (the exposure term has it), so ``unit_type IN`` stays a top-level conjunct.
    """
    experiment, columns = plan.experiment, plan.relation
    conditions: list[exp.Expression] = []
    if columns.exp_id is not None:
        conditions.append(
            exp.EQ(this=event_column(columns.exp_id), expression=exp.Literal.string(experiment.id))
        )
    if columns.date is not None:
        conditions += date_window(event_column(columns.date), experiment)
    identities = terms_by_goal(plan)
    if columns.unit_type is not None:
        conditions.append(_one_of(columns.unit_type, [ut for ut, _, _ in identities]))
    term_conditions: list[exp.Expression] = []
    if columns.agg_type is not None:
        term_conditions.append(_one_of(columns.agg_type, [at for _, at, _ in identities if at is not None]))
    whole_goals: list[str] = []
    filtered_goals: list[exp.Expression] = []
    for (unit_type, agg_type, goal), indexes in identities.items():
        keys = [plan.terms[i] for i in indexes]
        if not all(key.dimensions for key in keys):
            whole_goals.append(goal)
            continue
        identity = goal_predicate(plan, unit_type, agg_type, goal)
        filtered_goals.append(exp.Paren(this=conjunction([*identity, _any_of(plan, keys, dialect)])))
    branches = [_one_of(columns.goal, whole_goals)] if whole_goals else []
    term_conditions.append(disjunction(branches + filtered_goals))
    if plan.unit_filters:
        unit_events = [unit_filter_predicate(plan, item, dialect) for item in plan.unit_filters]
        either = [exp.Paren(this=conjunction(term_conditions)), *(exp.Paren(this=e) for e in unit_events)]
        conditions.append(exp.Paren(this=disjunction(either)))
    else:
        conditions.extend(term_conditions)
    conditions.extend(goal_filter_condition(plan, item, dialect) for item in plan.goal_filters)
    return conjunction(conditions)


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


def _one_of(name: str, values: Sequence[str]) -> exp.Expression:
    """``column = 'v'`` or ``column IN ('v', 'w')`` over the distinct values."""
    literals = [exp.Literal.string(v) for v in dict.fromkeys(values)]
    if len(literals) == 1:
        return exp.EQ(this=event_column(name), expression=literals[0])
    return exp.In(this=event_column(name), expressions=literals)


def terms_by_goal(plan: Plan, layer: Sequence[int] | None = None) -> dict[GoalIdentity, list[int]]:
    """Term indexes by goal identity (:meth:`Plan.identity`), in first-seen order."""
    by_goal: dict[GoalIdentity, list[int]] = {}
    for index in range(len(plan.terms)) if layer is None else layer:
        by_goal.setdefault(plan.identity(plan.terms[index]), []).append(index)
    return by_goal


def _any_of(plan: Plan, keys: Sequence[GoalKey], dialect: Dialect) -> exp.Expression:
    """Events matching the dimension filters of any of the terms: one ``IN`` when all are ``d=v``."""
    names = {d.name for key in keys for d in key.dimensions}
    if len(names) == 1 and all(len(k.dimensions) == 1 and k.dimensions[0].operator == "=" for k in keys):
        (name,) = names
        values = tuple(dict.fromkeys(v for key in keys for v in key.dimensions[0].values))
        return dimension_predicate(plan, Dimension(name, "=", values), dialect)
    filters = [conjunction([dimension_predicate(plan, d, dialect) for d in key.dimensions]) for key in keys]
    return exp.Paren(this=disjunction(filters))


def term_case(plan: Plan, layer: Sequence[int], dialect: Dialect) -> exp.Expression:
    """The index of the layer's term an event belongs to, ``NULL`` for none.

    ``CASE WHEN <goal> THEN CASE WHEN <dimensions> THEN i ... END ... END``: an event is compared
    with its goal once, then only with that goal's dimension filters.
    """
    case = exp.Case()
    for (unit_type, agg_type, goal), indexes in terms_by_goal(plan, layer).items():
        keys = [plan.terms[i] for i in indexes]
        if len(indexes) == 1 and not key_conditions(plan, keys[0], dialect):
            term: exp.Expression = number(indexes[0])
        else:
            term = exp.Case()
            for index, key in zip(indexes, keys, strict=True):
                conditions = key_conditions(plan, key, dialect)
                term.append("ifs", exp.If(this=conjunction(conditions), true=number(index)))
        identity = conjunction(goal_predicate(plan, unit_type, agg_type, goal))
        case.append("ifs", exp.If(this=identity, true=term))
    return case


def scanned_variant(plan: Plan) -> list[exp.Expression]:
    """The scan's variant column and, in a relation that flags units excluded for multiple
    exposures (:attr:`~expsql.compiler.relation.Relation.excluded`), the flag."""
    columns = plan.relation
    projections: list[exp.Expression] = [alias(event_column(columns.exp_variant_id), VARIANT)]
    if columns.excluded is not None:
        projections.append(alias(event_column(columns.excluded), EXCLUDED))
    return projections


def scanned_value(plan: Plan, value: exp.Expression) -> list[exp.Expression]:
    """The scan's ``value`` column, left out when no metric reads ``value()`` and a breakdown reads
    the scan a second time (``unit_segments``): PostgreSQL materializes a CTE read twice with every
    column it names, so it would read the events' value for nothing. A scan read once is inlined,
    and every planner drops the unread column (``tests/engines/test_columns_read.py``)."""
    if plan.reads_value or not plan.segments:
        return [alias(value, VALUE)]
    return []


def variant_keys(plan: Plan) -> list[exp.Column]:
    """What a unit's rows are grouped by beside the unit: the variant, and the exclusion flag.

    The flag rather than a marker variant computed per row: the groups then stay keyed by the
    variant column as stored, which engines group faster (DuckDB, 10M events: the whole
    exposures-layout metric-rows query 6-7 % faster)."""
    keys = [column(VARIANT)]
    if plan.relation.excluded is not None:
        keys.append(column(EXCLUDED))
    return keys


def shown_variant(plan: Plan) -> exp.Expression:
    """The variant a row shows: an excluded unit's as ``@multiple:<variant>``
    (:data:`~expsql.contracts.MULTIPLE_EXPOSURES_PREFIX`)."""
    if plan.relation.excluded is None:
        return column(VARIANT)
    marked = exp.DPipe(
        this=exp.Literal.string(MULTIPLE_EXPOSURES_PREFIX), expression=column(VARIANT), safe=True
    )
    excluded = exp.EQ(this=column(EXCLUDED), expression=number(1))
    return exp.Case(ifs=[exp.If(this=excluded, true=marked)], default=column(VARIANT))


def unit_filter_flag(index: int) -> str:
    """The scan's 0/1 column: the event lets its unit pass the filter ``Experiment.filters[index]``."""
    return f"unit_filter_{index}"


def scan_query(plan: Plan, dialect: Dialect, *, doubles: bool = False) -> exp.Select:
    """The only read of the events table: each matching event with the index of its goal term.

    :param doubles: read ``cnt`` and ``value`` as DOUBLE with NULL as 0, so that every per-unit
        expression built from them is a double (no integer overflow, no integer division).
    """
    columns = plan.relation
    cnt: exp.Expression = event_column(columns.cnt)
    value: exp.Expression = event_column(columns.value)
    if doubles:
        cnt, value = double_or_zero(cnt), double_or_zero(value)
    projections = [
        *scanned_variant(plan),
        alias(event_column(columns.unit_id), UNIT),
        alias(cnt, CNT),
        *scanned_value(plan, value),
    ]
    query = exp.Select().from_(events_table(plan), copy=False)
    if len(plan.layers) == 1:
        term: exp.Expression = term_case(plan, plan.layers[0], dialect)
    else:
        term = exp.Case(this=column(LAYER, LAYERS))
        for depth, layer in enumerate(plan.layers):
            term.append("ifs", exp.If(this=number(depth), true=term_case(plan, layer, dialect)))
        layers = exp.Values(
            expressions=[exp.Tuple(expressions=[number(depth)]) for depth in range(len(plan.layers))],
            alias=exp.TableAlias(this=identifier(LAYERS), columns=[identifier(LAYER)]),
        )
        query = query.join(layers, join_type="cross", copy=False)
    projections.append(alias(term, TERM))
    if plan.relation.pre_period is not None:
        projections.append(alias(event_column(plan.relation.pre_period), PRE_PERIOD))
    projections += [
        alias(unit_filter_indicator(plan, item, dialect), unit_filter_flag(item.index))
        for item in plan.unit_filters
    ]
    return query.select(*projections, copy=False).where(scan_filter(plan, dialect), copy=False)
