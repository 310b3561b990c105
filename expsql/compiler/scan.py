"""The one scan of the events table: names, typed dimension predicates, goal terms and the WHERE.

Every identifier is quoted (``quoted=True``), so a configured name is taken literally and a
reserved word (``unique`` in PostgreSQL, ``order``, ``user``) is never a problem; every value is a
literal node. Nothing here parses text: user names and values only ever reach
:func:`sqlglot.exp.to_identifier` and :class:`sqlglot.exp.Literal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlglot import exp

from expsql.compiler.ast import Dimension, GoalKey
from expsql.compiler.plan import Plan, TypedValue
from expsql.dialects.base import Dialect

#: The alias of the events table inside the scan.
EVENTS_ALIAS = "events"
#: The escape character of ``LIKE`` patterns built for ``=^`` on dialects without a prefix function.
LIKE_ESCAPE = "\\"

_COMPARISONS: dict[str, type[exp.Binary]] = {
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(identifier(name), table=identifier(table) if table else None)


def event_column(name: str) -> exp.Column:
    """A column of the events table, qualified so no generated alias can shadow it."""
    return column(name, EVENTS_ALIAS)


def alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, identifier(name), copy=False)


def events_table(plan: Plan) -> exp.Table:
    """``catalog.db.table`` split into its parts here, never parsed from the configured text."""
    *qualifiers, name = plan.source.table_parts
    db = qualifiers[-1] if qualifiers else None
    catalog = qualifiers[0] if len(qualifiers) == 2 else None
    return exp.Table(
        this=identifier(name),
        db=identifier(db) if db else None,
        catalog=identifier(catalog) if catalog else None,
        alias=exp.TableAlias(this=identifier(EVENTS_ALIAS)),
    )


def literal(value: TypedValue) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, Decimal):
        return exp.Literal.number(format(value, "f"))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    return exp.Literal.string(value)


def conjunction(conditions: Sequence[exp.Expression]) -> exp.Expression:
    if not conditions:
        return exp.Boolean(this=True)
    return exp.and_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]


def disjunction(conditions: Sequence[exp.Expression]) -> exp.Expression:
    if not conditions:
        return exp.Boolean(this=False)
    return exp.or_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]


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


def goal_predicate(plan: Plan, unit_type: str, agg_type: str, goal: str) -> list[exp.Expression]:
    """The conditions that pick a goal's events (no ``agg_type`` test when the source has none)."""
    columns = plan.source.columns
    conditions: list[exp.Expression] = [
        exp.EQ(this=event_column(columns.unit_type), expression=exp.Literal.string(unit_type))
    ]
    if columns.agg_type is not None:
        conditions.append(
            exp.EQ(this=event_column(columns.agg_type), expression=exp.Literal.string(agg_type))
        )
    conditions.append(exp.EQ(this=event_column(columns.goal), expression=exp.Literal.string(goal)))
    return conditions


def term_predicate(plan: Plan, key: GoalKey, dialect: Dialect) -> exp.Expression:
    """All events of one goal term: its goal and every dimension filter."""
    conditions = goal_predicate(plan, key.unit_type, key.agg_type, key.goal)
    conditions.extend(dimension_predicate(plan, d, dialect) for d in key.dimensions)
    return conjunction(conditions)


def scan_filter(plan: Plan, dialect: Dialect) -> exp.Expression:
    """The scan's WHERE: the experiment, the date window and exactly the events of some term."""
    experiment, columns = plan.experiment, plan.source.columns
    conditions: list[exp.Expression] = [
        exp.EQ(this=event_column(columns.exp_id), expression=exp.Literal.string(experiment.id))
    ]
    if experiment.date_from is not None:
        conditions.append(exp.GTE(this=event_column(columns.date), expression=literal(experiment.date_from)))
    if experiment.date_until is not None:
        conditions.append(exp.LTE(this=event_column(columns.date), expression=literal(experiment.date_until)))
    conditions.append(disjunction(list(_goal_filters(plan, dialect))))
    return conjunction(conditions)


def _goal_filters(plan: Plan, dialect: Dialect) -> Iterable[exp.Expression]:
    """One condition per goal: its identity and, unless one term reads all of it, its dimensions."""
    by_goal: dict[tuple[str, str, str], list[GoalKey]] = {}
    for key in plan.terms:
        by_goal.setdefault((key.unit_type, key.agg_type, key.goal), []).append(key)
    for (unit_type, agg_type, goal), keys in by_goal.items():
        conditions = goal_predicate(plan, unit_type, agg_type, goal)
        if all(key.dimensions for key in keys):
            dimension_filters = [
                conjunction([dimension_predicate(plan, d, dialect) for d in key.dimensions]) for key in keys
            ]
            conditions.append(exp.Paren(this=disjunction(dimension_filters)))
        yield exp.Paren(this=conjunction(conditions))


def term_case(plan: Plan, layer: Sequence[int], dialect: Dialect) -> exp.Expression:
    """``CASE WHEN <term i> THEN i ... END``: the index of the layer's term an event belongs to."""
    case = exp.Case()
    for index in layer:
        case.append(
            "ifs", exp.If(this=term_predicate(plan, plan.terms[index], dialect), true=exp.convert(index))
        )
    return case
