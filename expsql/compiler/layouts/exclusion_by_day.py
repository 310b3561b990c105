"""A timeline under ``multiple_exposures: exclude`` in the exposures layout: each day excludes
the units it should.

A reader at the end of day d excludes the units exposed to several variants by d and counts
each other unit in its variant. So a unit whose second variant is first seen on day D counts in
its first variant on the days before D, then leaves it: its exposures before D are rows of its
first variant, each of its exposures is also a row of its marker variant (``excluded`` 1) from D
on, one ``leaves`` row on D takes it out of its first variant (the timeline counts it out:
:mod:`expsql.compiler.timeline`), and only its events before D are joined
(:func:`~.attribution.evaluated_on`). A unit seen in one variant is as in a single look.
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.layouts.attribution import (
    EXCLUDED_DAY,
    EXPERIMENT_EXPOSURES,
    EXPOSED_UNITS,
    EXPOSURE_TIMESTAMP,
    FIRST_EXPOSURE,
    PRE_PERIOD,
    UNIT_VARIANT,
    Attribution,
    dimensions,
    evaluated_on,
    excluded,
    excluded_day,
    null_of,
    timestamps,
)
from expsql.compiler.nodes import alias, column, conjunction, day_of, identifier, number
from expsql.compiler.plan import Plan
from expsql.compiler.relation import DAY, EXCLUDED, EXPOSURE, LEAVES

FIRST_VARIANT = "first_variant"
FIRST_VARIANTS = "first_variants"
ROLES = "exposure_roles"
ROLE = "exposure_role"


def exposed_units_by_day() -> exp.Select:
    """Per exposed unit: its first exposure ``t0``, its variant (the first exposure's; ties: the
    smallest variant id) and ``excluded_day``, the day it is first seen in another (NULL: never)."""
    unit, variant, timestamp = column("unit_id"), column("variant_id"), column(EXPOSURE_TIMESTAMP)
    order = exp.Order(expressions=[exp.Ordered(this=timestamp.copy()), exp.Ordered(this=variant.copy())])
    first = exp.Window(this=exp.FirstValue(this=variant.copy()), partition_by=[unit.copy()], order=order)
    ordered = (
        exp.Select()
        .select(unit.copy(), variant.copy(), timestamp.copy(), alias(first, FIRST_VARIANT), copy=False)
        .from_(exp.Table(this=identifier(EXPERIMENT_EXPOSURES)), copy=False)
    )
    other = exp.NEQ(this=variant.copy(), expression=column(FIRST_VARIANT))
    seen_other = exp.Min(this=exp.Case(ifs=[exp.If(this=other, true=timestamp.copy())]))
    return (
        exp.Select()
        .select(
            unit.copy(),
            alias(exp.Min(this=column(FIRST_VARIANT)), UNIT_VARIANT),
            alias(exp.Min(this=timestamp), FIRST_EXPOSURE),
            alias(day_of(seen_other), EXCLUDED_DAY),
            copy=False,
        )
        .from_(exp.Subquery(this=ordered, alias=exp.TableAlias(this=identifier(FIRST_VARIANTS))), copy=False)
        .group_by(unit, copy=False)
    )


def exposure_branch_by_day(plan: Plan, layout: Attribution) -> exp.Select:
    """Every exposure as a row of its unit's variant while the unit counts there (role 0) and, for
    a unit excluded by the last day, as a row of its marker variant from its excluded day on
    (role 1: an exposure before that day is moved to it)."""

    def exposure(name: str) -> exp.Column:
        return column(name, EXPERIMENT_EXPOSURES)

    role, day = column(ROLE, ROLES), exposure(DAY)
    member = exp.EQ(this=role, expression=number(0))
    moved = conjunction([exp.Not(this=member.copy()), exp.LT(this=day.copy(), expression=excluded_day())])
    variant = exp.Case(ifs=[exp.If(this=member, true=column(UNIT_VARIANT, EXPOSED_UNITS))])
    projections: list[exp.Expression] = [
        alias(variant.else_(exposure("variant_id"), copy=False), "variant_id"),
        alias(exposure("unit_id"), "unit_id"),
        alias(exp.Literal.string(EXPOSURE), "goal"),
        alias(number(1), "cnt"),
        alias(exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE")), "value"),
        alias(role.copy(), EXCLUDED),
        alias(number(0), LEAVES),
        *timestamps(plan, exposure(EXPOSURE_TIMESTAMP)),
        *([alias(number(0), PRE_PERIOD)] if layout.lookback_seconds else []),
        alias(exp.Case(ifs=[exp.If(this=moved, true=excluded_day())]).else_(day.copy(), copy=False), DAY),
    ]
    for name in dimensions(plan, layout):
        own_column = name in layout.exposure_dimensions
        projections.append(alias(exposure(name) if own_column else null_of(plan, name), name))
    roles = exp.Values(
        expressions=[exp.Tuple(expressions=[number(r)]) for r in (0, 1)],
        alias=exp.TableAlias(this=identifier(ROLES), columns=[identifier(ROLE)]),
    )
    counted = conjunction([member.copy(), evaluated_on(day.copy())])
    marked = conjunction([exp.EQ(this=role.copy(), expression=number(1)), excluded()])
    same_unit = exp.EQ(this=exposure("unit_id"), expression=column("unit_id", EXPOSED_UNITS))
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(EXPERIMENT_EXPOSURES)), copy=False)
        .where(exp.or_(exp.Paren(this=counted), exp.Paren(this=marked), copy=False), copy=False)
    )
    query.set("joins", [exp.Join(this=exp.Table(this=identifier(EXPOSED_UNITS)), on=same_unit)])
    return query.join(roles, join_type="cross", copy=False)


def leave_branch(plan: Plan, layout: Attribution) -> exp.Select:
    """One row per unit excluded by the last day, on its excluded day: ``leaves`` 1, no exposure
    (``cnt`` 0), in its first variant."""
    projections: list[exp.Expression] = [
        alias(column(UNIT_VARIANT, EXPOSED_UNITS), "variant_id"),
        alias(column("unit_id", EXPOSED_UNITS), "unit_id"),
        alias(exp.Literal.string(EXPOSURE), "goal"),
        alias(number(0), "cnt"),
        alias(exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE")), "value"),
        alias(number(0), EXCLUDED),
        alias(number(1), LEAVES),
        *timestamps(plan, column(FIRST_EXPOSURE, EXPOSED_UNITS)),
        *([alias(number(0), PRE_PERIOD)] if layout.lookback_seconds else []),
        alias(excluded_day(), DAY),
        *(alias(null_of(plan, name), name) for name in dimensions(plan, layout)),
    ]
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(EXPOSED_UNITS)), copy=False)
        .where(excluded(), copy=False)
    )
