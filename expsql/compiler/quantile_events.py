"""The event quantiles' per-unit step (:mod:`.quantiles`): the term's events of the experiment's
units, each unit's events at or below the estimate, and their cluster sums per variant; and the
key columns the per-variant quantile CTEs share with ``variant_sums``.
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.nodes import alias, column, conjunction, disjunction, identifier, node, number
from expsql.compiler.plan import Plan
from expsql.compiler.scan import SCAN, UNIT, VALUE, variant_keys
from expsql.models import Metric

QUANTILE_VALUE = "quantile_value"
EVENTS_ALIAS, UNITS_ALIAS = "quantile_event", "quantile_unit"


def key_name(table: str, key: str) -> str:
    """A key column as a per-variant quantile CTE names it: its own name, so that joining it to
    ``variant_sums`` leaves no two columns of one name (ClickHouse then renames the shared one
    ``variant_sums.variant_id``)."""
    return f"{table}_{key}"


def events_query(
    plan: Plan,
    keys: list[str],
    units: str,
    is_term: exp.Expression,
    pool: exp.Expression | None,
    metric: Metric,
) -> exp.Select:
    """The term's events of the experiment's units, with the unit's keys and segment."""
    same_unit = conjunction(
        [
            exp.EQ(this=column(k, EVENTS_ALIAS), expression=column(k, UNITS_ALIAS))
            for k in [c.name for c in variant_keys(plan)] + [UNIT]
        ]
    )
    term = is_term.transform(
        lambda node: column(node.name, EVENTS_ALIAS) if isinstance(node, exp.Column) else node
    )
    conditions = [term]
    if pool is not None:
        conditions.append(
            pool.transform(lambda n: column(n.name, UNITS_ALIAS) if isinstance(n, exp.Column) else n)
        )
    if metric.ignore_zeros:
        conditions.append(exp.NEQ(this=column(VALUE, EVENTS_ALIAS), expression=number(0)))
    projections = [
        *(alias(column(k, UNITS_ALIAS), k) for k in keys),  # aliased: ClickHouse keeps the qualifier
        alias(column(UNIT, UNITS_ALIAS), UNIT),
        alias(column(VALUE, EVENTS_ALIAS), QUANTILE_VALUE),
    ]
    query = exp.Select().select(*projections, copy=False)
    query = query.from_(
        exp.Table(this=identifier(SCAN), alias=exp.TableAlias(this=identifier(EVENTS_ALIAS))), copy=False
    )
    query = query.join(
        exp.Table(this=identifier(units), alias=exp.TableAlias(this=identifier(UNITS_ALIAS))),
        on=same_unit,
        copy=False,
    )
    return query.where(conjunction(conditions), copy=False)


def same_keys(keys: list[str], segments: set[str], left: str, right: str) -> exp.Expression:
    """Equal keys; a segment column may be NULL, and a NULL segment matches a NULL one."""
    conditions: list[exp.Expression] = []
    for k in keys:
        equal: exp.Expression = exp.EQ(this=column(k, left), expression=column(key_name(right, k), right))
        if k in segments:
            both_null = node(
                exp.and_(
                    exp.Is(this=column(k, left), expression=exp.Null()),
                    exp.Is(this=column(key_name(right, k), right), expression=exp.Null()),
                    copy=False,
                )
            )
            equal = exp.Paren(this=disjunction([equal, both_null]))
        conditions.append(equal)
    return conjunction(conditions)


def per_unit_query(
    keys: list[str], segments: set[str], events: str, estimates: str, estimate: str
) -> exp.Select:
    at_or_below = exp.LTE(this=column(QUANTILE_VALUE, events), expression=column(estimate, estimates))
    below = exp.Case(ifs=[exp.If(this=at_or_below, true=number(1))], default=number(0))
    group = [*(column(k, events) for k in keys), column(UNIT, events)]
    projections = [
        *(alias(column(k, events), k) for k in keys),
        alias(exp.Sum(this=below), "quantile_a"),
        alias(exp.Count(this=exp.Star()), "quantile_b"),
    ]
    query = (
        exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(events)), copy=False)
    )
    query = query.join(
        exp.Table(this=identifier(estimates)), on=same_keys(keys, segments, events, estimates), copy=False
    )
    return query.group_by(*group, copy=False)


def clusters_query(keys: list[str], per_unit: str, names: list[str], table: str) -> exp.Select:
    a, b = column("quantile_a"), column("quantile_b")
    sums = (
        a,
        exp.Mul(this=a, expression=a.copy()),
        b,
        exp.Mul(this=b, expression=b.copy()),
        exp.Mul(this=a.copy(), expression=b.copy()),
    )
    projections: list[exp.Expression] = [alias(column(k), key_name(table, k)) for k in keys]
    projections += [alias(exp.Sum(this=s.copy()), name) for s, name in zip(sums, names, strict=False)]
    projections.append(alias(exp.Count(this=exp.Star()), names[-1]))
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(per_unit)), copy=False)
        .group_by(*(column(k) for k in keys), copy=False)
    )
