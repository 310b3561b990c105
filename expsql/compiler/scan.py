"""The one scan of the events table: its names, the WHERE, the term ``CASE``, and the scan query
every builder starts from (:func:`scan_query`, or :mod:`.term_codes`' coded scan), after the CTEs
of the source layout (:func:`source_ctes`). Its conditions are :mod:`.predicates`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from expsql.compiler.layouts import layout_of
from expsql.compiler.nodes import (
    alias,
    column,
    conjunction,
    disjunction,
    double_or_zero,
    identifier,
    number,
    table,
)
from expsql.compiler.plan import Plan
from expsql.compiler.predicates import (
    EVENTS_ALIAS,
    date_window,
    dimension_predicate,
    event_column,
    goal_filter_condition,
    goal_predicate,
    key_conditions,
    unit_filter_indicator,
    unit_filter_predicate,
)
from expsql.compiler.terms import GoalIdentity
from expsql.contracts import MULTIPLE_EXPOSURES_PREFIX
from expsql.dialects.base import Dialect
from expsql.grammar.ast import Dimension, GoalKey

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


def events_table(plan: Plan) -> exp.Table:
    """The relation the scan reads, as ``events``."""
    return table(plan.relation.table_parts, EVENTS_ALIAS)


def source_ctes(plan: Plan, dialect: Dialect) -> list[exp.CTE]:
    """The CTEs the source layout puts before the scan (:mod:`expsql.compiler.layouts`)."""
    return layout_of(plan).ctes(dialect)


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
