"""Attribution in SQL: an exposure log and a raw events table → the relation of attributed events.

The exposures-and-events layout (:class:`~expsql.compiler.relation.ExposuresLayout`) puts three
CTEs before the builders' scan; the scan then reads ``attributed_events`` as it reads the seed's
events table::

    exposure_groups AS (    -- the experiment's exposures in the window, counted per unit,
      SELECT CAST(variant AS TEXT) AS variant_id, unit_id, <exposure dimensions>,   -- variant
             COUNT(*) AS exposure_count, MIN(timestamp) AS exposure_timestamp      -- and attributes
      FROM exposures WHERE exp_id = ... AND <window> AND <no NULL key>
      GROUP BY CAST(variant AS TEXT), unit_id, <exposure dimensions>),
    exposure_rows AS (      -- each group with its unit's first exposure and evaluated variant
      SELECT *, MIN(exposure_timestamp) OVER (PARTITION BY unit_id) AS first_exposure,   -- t0
             CASE WHEN MIN(variant_id) OVER (...) = MAX(variant_id) OVER (...)       -- exclude, or
                  THEN variant_id END AS unit_variant                                -- FIRST_VALUE
      FROM exposure_groups),
    exposed_units AS (      -- one row per unit that is evaluated
      SELECT unit_variant AS variant_id, unit_id, MIN(first_exposure) AS first_exposure
      FROM exposure_rows WHERE unit_variant IS NOT NULL GROUP BY unit_variant, unit_id),
    attributed_events AS (  -- every exposure as an event of goal 'exposure', then the events
      SELECT COALESCE(unit_variant, '@multiple:' || variant_id) AS variant_id, unit_id,
             'exposure' AS goal, exposure_count AS cnt, NULL AS value, <dimensions>
      FROM exposure_rows
      UNION ALL
      SELECT exposed_units.variant_id, events.unit_id, events.event, 1, events.value, <dimensions>
      FROM events JOIN exposed_units ON events.unit_id = exposed_units.unit_id
      WHERE events.event IN (<goals>) AND <t0 + delay <= timestamp < t0 + delay + window>
        AND <timestamp before the experiment's end> AND <pruning bounds>)

- Exposures are counted per unit, variant and the attributes the query reads, so
  ``count(exposure)`` counts a unit's exposures, an exposure filter keeps a unit when any of its
  exposures matches, and a dimension filter on the exposure goal reads the exposures' own
  attributes, all through the builders' existing rules. (Grouping before the windows: the windows
  then see one row per unit and variant instead of every exposure, measured 10-15 % of the query.)
- A unit exposed to several variants is excluded by default: its exposures are kept under the
  marker variant ``@multiple:<variant>`` (:data:`~expsql.contracts.MULTIPLE_EXPOSURES_PREFIX`)
  and none of its events is joined, so every row contract carries, per variant, the units that
  were excluded (the MultipleExposures check) through the same single pass. With
  ``multiple_exposures: first`` the unit counts for the variant of its earliest exposure (ties:
  the smallest variant id), with all its exposures.
- The exposure log is scanned once (``exposure_rows`` is read twice: engines materialize a CTE
  read twice, or reuse its exchange) and the events table once.
- CUPED (``cuped_lookback_days``): the events branch also keeps each unit's events in
  ``[t0 - lookback, t0)``, flagged ``pre_period = 1``; the builders read them as pre-exposure
  goal terms (:class:`~expsql.compiler.plan.PreKey`) and the pruning bounds start ``lookback``
  before the window.
- A timeline (``timeline: daily``, :mod:`.timeline`): exposures are grouped per day too, and
  every row of ``attributed_events`` carries its ``day`` (the date of its timestamp; an exposure
  group's, of its first exposure that day), so ``count(exposure)`` is counted per day.
- When metrics set their own windows, the events branch keeps the loosest window and carries
  ``event_timestamp`` and ``first_exposure``, so each goal term tests its own
  (:func:`~expsql.compiler.scan.key_conditions`).
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from expsql.compiler.plan import Plan
from expsql.compiler.relation import ATTRIBUTED_EVENTS, DAY, EXPOSURE, ExposuresLayout
from expsql.compiler.scan import (
    alias,
    column,
    conjunction,
    cte,
    day_of,
    identifier,
    literal,
    number,
    prefix_match,
    shifted,
    table,
    window_conditions,
)
from expsql.contracts import MULTIPLE_EXPOSURES_PREFIX
from expsql.dialects.base import Dialect
from expsql.source import DimensionType

EXPOSURE_GROUPS = "exposure_groups"
EXPOSURE_ROWS = "exposure_rows"
EXPOSURE_COUNT = "exposure_count"
EXPOSED_UNITS = "exposed_units"
EXPOSURES = "exposures"
EVENTS = "events"
UNIT_VARIANT = "unit_variant"
EXPOSURE_TIMESTAMP = "exposure_timestamp"
FIRST_EXPOSURE = "first_exposure"
PRE_PERIOD = "pre_period"

_SQL_TYPES: dict[DimensionType, str] = {
    "string": "TEXT",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}


def attribution_ctes(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> list[exp.CTE]:
    """``exposure_groups``, ``exposure_rows``, ``exposed_units`` (when events are read) and
    ``attributed_events``."""
    branches = [_exposure_branch(plan, layout)]
    ctes = [
        cte(EXPOSURE_GROUPS, _exposure_groups(plan, layout, dialect)),
        cte(EXPOSURE_ROWS, _exposure_rows(plan, layout)),
    ]
    if layout.event_goals:
        ctes.append(cte(EXPOSED_UNITS, _exposed_units()))
        branches.append(_event_branch(plan, layout, dialect))
    union: exp.Query = branches[0]
    for branch in branches[1:]:
        union = exp.Union(this=union, expression=branch, distinct=False)
    ctes.append(exp.CTE(this=union, alias=exp.TableAlias(this=identifier(ATTRIBUTED_EVENTS))))
    return ctes


def not_excluded(variant: exp.Column, dialect: Dialect) -> exp.Expression:
    """The rows whose ``variant`` is not a marker variant of units excluded for being exposed to
    several variants (none are marked with ``multiple_exposures: first``, and this is still true)."""
    return exp.Not(this=prefix_match(variant, MULTIPLE_EXPOSURES_PREFIX, dialect))


def _exposures_column(layout: ExposuresLayout, field: str) -> exp.Column:
    return column(getattr(layout.source.exposures.columns, field), EXPOSURES)


def _text(target: exp.Expression) -> exp.Expression:
    return exp.Cast(this=target, to=exp.DataType.build("TEXT"))


def timestamp_literal(moment: dt.datetime, dialect: Dialect) -> exp.Expression:
    """A timestamp literal of the dialect's timestamp type (:attr:`Dialect.timestamp_type`)."""
    text = exp.Literal.string(moment.isoformat(sep=" "))
    return exp.Cast(this=text, to=exp.DataType.build(dialect.timestamp_type))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _experiment_start(plan: Plan) -> dt.datetime | None:
    day = plan.experiment.date_from
    return None if day is None else _midnight(day)


def _experiment_end(plan: Plan) -> dt.datetime | None:
    day = plan.experiment.date_until
    return None if day is None else _midnight(day + dt.timedelta(days=1))


def _exposure_groups(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> exp.Select:
    """The experiment's exposures in the window, with no NULL key, counted per unit, variant and
    exposure attributes the query reads, with the earliest of each group."""
    unit, variant = _exposures_column(layout, "unit_id"), _exposures_column(layout, "variant")
    timestamp = _exposures_column(layout, "timestamp")
    names = [*layout.exposure_dimensions, *layout.segment_dimensions]
    dimensions = [column(name, EXPOSURES) for name in names]
    keys: list[exp.Expression] = [_text(variant), unit, *dimensions]
    days = [day_of(timestamp.copy())] if layout.relation.day is not None else []
    keys += days
    projections = [
        alias(keys[0].copy(), "variant_id"),
        alias(unit.copy(), "unit_id"),
        *(alias(d.copy(), d.name) for d in dimensions),
        *(alias(d.copy(), DAY) for d in days),
        alias(exp.Count(this=exp.Star()), EXPOSURE_COUNT),
        alias(exp.Min(this=timestamp.copy()), EXPOSURE_TIMESTAMP),
    ]
    conditions: list[exp.Expression] = [
        exp.EQ(this=_exposures_column(layout, "exp_id"), expression=exp.Literal.string(plan.experiment.id)),
        *(exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())) for c in (unit, variant, timestamp)),
    ]
    start, end = _experiment_start(plan), _experiment_end(plan)
    if start is not None:
        conditions.append(exp.GTE(this=timestamp.copy(), expression=timestamp_literal(start, dialect)))
    if end is not None:
        conditions.append(exp.LT(this=timestamp.copy(), expression=timestamp_literal(end, dialect)))
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(table(tuple(layout.source.exposures.table.split(".")), EXPOSURES), copy=False)
        .where(conjunction(conditions), copy=False)
        .group_by(*(key.copy() for key in keys), copy=False)
    )


def _exposure_rows(plan: Plan, layout: ExposuresLayout) -> exp.Select:
    """Each group of exposures with its unit's first exposure ``t0`` and the variant the unit is
    evaluated in (NULL when it is excluded for being exposed to several)."""
    unit, variant, timestamp = column("unit_id"), column("variant_id"), column(EXPOSURE_TIMESTAMP)

    def over_unit(function: exp.Expression, order: list[exp.Expression] | None = None) -> exp.Window:
        ordered = exp.Order(expressions=[exp.Ordered(this=o) for o in order]) if order else None
        return exp.Window(this=function, partition_by=[unit.copy()], order=ordered)

    if plan.experiment.multiple_exposures == "first":
        first = exp.FirstValue(this=variant.copy())
        unit_variant: exp.Expression = over_unit(first, [timestamp.copy(), variant.copy()])
    else:
        one_variant = exp.EQ(
            this=over_unit(exp.Min(this=variant.copy())), expression=over_unit(exp.Max(this=variant.copy()))
        )
        unit_variant = exp.Case(ifs=[exp.If(this=one_variant, true=variant.copy())])
    names = ["variant_id", "unit_id", *layout.exposure_dimensions, EXPOSURE_COUNT, EXPOSURE_TIMESTAMP]
    names += [DAY] if layout.relation.day is not None else []
    projections = [
        *(column(name) for name in names),
        alias(over_unit(exp.Min(this=timestamp.copy())), FIRST_EXPOSURE),
        alias(unit_variant, UNIT_VARIANT),
    ]
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(EXPOSURE_GROUPS)), copy=False)
    )


def _exposed_units() -> exp.Select:
    """One row per evaluated unit: its variant and first exposure."""
    keys = [column(UNIT_VARIANT), column("unit_id")]
    return (
        exp.Select()
        .select(
            alias(column(UNIT_VARIANT), "variant_id"),
            column("unit_id"),
            alias(exp.Min(this=column(FIRST_EXPOSURE)), FIRST_EXPOSURE),
            copy=False,
        )
        .from_(exp.Table(this=identifier(EXPOSURE_ROWS)), copy=False)
        .where(exp.Not(this=exp.Is(this=column(UNIT_VARIANT), expression=exp.Null())), copy=False)
        .group_by(*keys, copy=False)
    )


def _dimensions(plan: Plan, layout: ExposuresLayout) -> list[str]:
    return list(dict.fromkeys((*layout.exposure_dimensions, *layout.event_dimensions)))


def _null_of(plan: Plan, name: str) -> exp.Expression:
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(_SQL_TYPES[plan.source.dimension_type(name)]))


def _exposure_branch(plan: Plan, layout: ExposuresLayout) -> exp.Select:
    """Every exposure as an event of goal ``exposure``; an excluded unit's under its marker variant."""
    own = column(UNIT_VARIANT)
    if plan.experiment.multiple_exposures == "exclude":
        marked = exp.DPipe(
            this=exp.Literal.string(MULTIPLE_EXPOSURES_PREFIX), expression=column("variant_id"), safe=True
        )
        variant: exp.Expression = exp.Coalesce(this=own, expressions=[marked])
    else:
        variant = own
    projections = [
        alias(variant, "variant_id"),
        column("unit_id"),
        alias(exp.Literal.string(EXPOSURE), "goal"),
        alias(column(EXPOSURE_COUNT), "cnt"),
        alias(exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE")), "value"),
    ]
    if plan.windowed:
        projections += [alias(column(EXPOSURE_TIMESTAMP), "event_timestamp"), column(FIRST_EXPOSURE)]
    if layout.lookback_seconds:
        projections.append(alias(number(0), PRE_PERIOD))
    if layout.relation.day is not None:
        projections.append(column(DAY))
    for name in _dimensions(plan, layout):
        own_column = name in layout.exposure_dimensions
        projections.append(column(name) if own_column else alias(_null_of(plan, name), name))
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(EXPOSURE_ROWS)), copy=False)
    )


def _event_branch(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> exp.Select:
    """The events of the evaluated units that the attribution rules count, with their variant."""
    events = layout.source.events
    names = events.columns

    def event(name: str) -> exp.Column:
        return column(name, EVENTS)

    timestamp = event(names.timestamp)
    first_exposure = column(FIRST_EXPOSURE, EXPOSED_UNITS)
    cnt: exp.Expression = number(1) if names.count is None else event(names.count)
    value: exp.Expression = (
        exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE"))
        if names.value is None or not plan.reads_value
        else event(names.value)
    )
    projections = [
        alias(column("variant_id", EXPOSED_UNITS), "variant_id"),
        alias(column("unit_id", EXPOSED_UNITS), "unit_id"),
        alias(event(names.goal), "goal"),
        alias(cnt, "cnt"),
        alias(value, "value"),
    ]
    if plan.windowed:
        projections += [
            alias(timestamp.copy(), "event_timestamp"),
            alias(first_exposure.copy(), FIRST_EXPOSURE),
        ]
    attribution = window_conditions(timestamp, first_exposure, layout.window)
    if layout.lookback_seconds:
        # CUPED: the same events before the first exposure, [t0 - lookback, t0), flagged.
        before = exp.LT(this=timestamp.copy(), expression=first_exposure.copy())
        lookback = shifted(first_exposure.copy(), -layout.lookback_seconds)
        pre = conjunction([exp.GTE(this=timestamp.copy(), expression=lookback), before])
        either = exp.or_(exp.Paren(this=conjunction(attribution)), exp.Paren(this=pre), copy=False)
        attribution = [exp.Paren(this=either)]
        flag = exp.Case(ifs=[exp.If(this=before.copy(), true=number(1))], default=number(0))
        projections.append(alias(flag, PRE_PERIOD))
    if layout.relation.day is not None:
        projections.append(alias(day_of(timestamp.copy()), DAY))
    for name in _dimensions(plan, layout):
        own_column = name in layout.event_dimensions
        projections.append(alias(event(name) if own_column else _null_of(plan, name), name))
    goals = [exp.Literal.string(goal) for goal in layout.event_goals]
    conditions: list[exp.Expression] = [
        exp.In(this=event(names.goal), expressions=goals)
        if len(goals) > 1
        else exp.EQ(this=event(names.goal), expression=goals[0]),
        *attribution,
        *_pruning(plan, layout, dialect),
    ]
    same_unit = exp.EQ(this=event(names.unit_id), expression=column("unit_id", EXPOSED_UNITS))
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(table(tuple(events.table.split(".")), EVENTS), copy=False)
        .where(conjunction(conditions), copy=False)
    )
    query.set("joins", [exp.Join(this=exp.Table(this=identifier(EXPOSED_UNITS)), on=same_unit)])
    return query


def _pruning(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> list[exp.Expression]:
    """Bounds on the events' timestamp (and partition date) alone, so a partitioned table is read
    only where some metric can count: from the window's first day plus the smallest delay (minus
    the CUPED lookback) to the experiment's end."""
    events = layout.source.events
    timestamp = column(events.columns.timestamp, EVENTS)
    start, end = _experiment_start(plan), _experiment_end(plan)
    first_second = -layout.lookback_seconds if layout.lookback_seconds else layout.window.delay_seconds
    earliest = None if start is None else start + dt.timedelta(seconds=first_second)
    bounds: list[exp.Expression] = []
    if earliest is not None:
        bounds.append(exp.GTE(this=timestamp, expression=timestamp_literal(earliest, dialect)))
    if end is not None:
        bounds.append(exp.LT(this=timestamp.copy(), expression=timestamp_literal(end, dialect)))
    if events.partition_date is not None:
        partition = column(events.partition_date, EVENTS)
        if earliest is not None:
            bounds.append(exp.GTE(this=partition, expression=literal(earliest.date())))
        if end is not None:
            bounds.append(exp.LT(this=partition.copy(), expression=literal(end.date())))
    return bounds
