"""The exposures-and-events layout: an exposure log and a raw events table → the relation of
attributed events, with attribution in SQL.

:class:`ExposuresLayout` puts three CTEs before the builders' scan; the scan then reads
``attributed_events`` as it reads the seed's events table::

    experiment_exposures AS (   -- the experiment's exposures in the window, no NULL key
      SELECT CAST(variant AS TEXT) AS variant_id, unit_id, <exposure dimensions>,
             timestamp AS exposure_timestamp
      FROM exposures WHERE exp_id = ... AND <window> AND <no NULL key>),
    exposed_units AS (          -- one row per unit: its first exposure t0 and its variant
      SELECT unit_id, MIN(exposure_timestamp) AS first_exposure,
             CASE WHEN MIN(variant_id) = MAX(variant_id) THEN MIN(variant_id) END   -- exclude,
               AS unit_variant                                 -- or the first exposure's variant
      FROM experiment_exposures GROUP BY unit_id),
    attributed_events AS (      -- every exposure as an event of goal 'exposure', then the events
      SELECT experiment_exposures.variant_id, unit_id, 'exposure' AS goal, 1 AS cnt, NULL AS value,
             CASE WHEN exposed_units.unit_variant IS NULL THEN 1 ELSE 0 END AS excluded, <dimensions>
      FROM experiment_exposures JOIN exposed_units ON <same unit>
      UNION ALL
      SELECT exposed_units.unit_variant, events.unit_id, events.event, 1, events.value, 0, <dimensions>
      FROM events JOIN exposed_units ON <same unit> AND exposed_units.unit_variant IS NOT NULL
      WHERE events.event IN (<goals>) AND <t0 + delay <= timestamp < t0 + delay + window>
        AND <timestamp before the experiment's end> AND <pruning bounds>)

- Each exposure is a row of goal ``exposure`` (``cnt`` 1), with the attributes the query reads, so
  ``count(exposure)`` counts a unit's exposures, an exposure filter keeps a unit when any of its
  exposures matches, and a dimension filter on the exposure goal reads the exposures' own
  attributes, all through the builders' existing rules. One aggregation of the log (per unit)
  and a join back: measured on DuckDB (10M events, 1.1M exposures), grouping the exposures per
  unit and variant first, then windows per unit, took 1.6-2x the time of this chain, and the
  whole query ~8 % more, though its per-unit step then reads fewer exposure rows.
- A unit exposed to several variants is excluded by default (``unit_variant`` is NULL): its
  exposures are kept, flagged ``excluded = 1``, and none of its events is joined. The builders
  group by the flag beside the variant and show such rows under the marker variant
  ``@multiple:<variant>`` (:data:`~expsql.contracts.MULTIPLE_EXPOSURES_PREFIX`,
  :func:`~expsql.compiler.scan.shown_variant`), so every row contract carries, per variant,
  the units that were excluded (the MultipleExposures check) through the same single pass. (The
  marker computed here instead made every per-unit group key a computed string: 6-7 % of the
  metric-rows query on DuckDB.) With ``multiple_exposures: first`` the unit counts for the variant
  of its earliest exposure (ties: the smallest variant id; ``ROW_NUMBER`` instead of the
  aggregation), with all its exposures, and no row is flagged.
- A timeline (``timeline: daily``, :mod:`.timeline`): every row of ``attributed_events`` carries
  its ``day`` (the date of its timestamp), so ``count(exposure)`` is counted per day.
- The exposure log is scanned once (``experiment_exposures`` and ``exposed_units`` are read twice:
  engines materialize a CTE read twice, or reuse its exchange) and the events table once.
- CUPED (``cuped_lookback_days``): the events branch also keeps each unit's events in
  ``[t0 - lookback, t0)``, flagged ``pre_period = 1``; the builders read them as pre-exposure
  goal terms (:class:`~expsql.compiler.terms.PreKey`) and the pruning bounds start ``lookback``
  before the window.
- When metrics set their own windows, the events branch keeps the loosest window and carries
  ``event_timestamp`` and ``first_exposure``, so each goal term tests its own
  (:func:`~expsql.compiler.predicates.key_conditions`).
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from expsql.compiler.first_rows import first_of, ranked_first
from expsql.compiler.layouts.base import Layout
from expsql.compiler.nodes import alias, column, conjunction, cte, day_of, identifier, literal, number, table
from expsql.compiler.plan import Plan
from expsql.compiler.predicates import shifted, window_conditions
from expsql.compiler.relation import DAY, EXCLUDED, EXPOSURE, Relation
from expsql.dialects.base import Dialect
from expsql.errors import ExperimentError
from expsql.grammar.ast import GoalKey, goals
from expsql.models import AttributionWindow, Check, Experiment, Metric
from expsql.source import AnySource, DimensionType, ExposuresSource

#: The name of the layout's relation of attributed events.
ATTRIBUTED_EVENTS = "attributed_events"
EXPERIMENT_EXPOSURES = "experiment_exposures"
EXPOSED_UNITS = "exposed_units"
RANKED_EXPOSURES = "ranked_exposures"
EXPOSURE_RANK = "exposure_rank"
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


class ExposuresLayout(Layout):
    """The exposures-and-events layout: the scan reads ``attributed_events``.

    What the CTEs read, from the plan's experiment:

    - ``window``: the window the events branch applies, the loosest of all metrics' windows (each
      goal term tests its own when they differ, :attr:`~expsql.compiler.plan.Plan.windowed`);
    - ``event_goals``: the goals read from the events table (never ``exposure``), trigger
      filters' goals included;
    - ``event_dimensions`` and ``exposure_dimensions``: the dimension columns read from the events
      table and from the exposure log; ``segment_dimensions``: the breakdown's, from the log;
    - ``lookback_seconds``: CUPED's pre-exposure period ``[t0 - lookback, t0)``, read too.
    """

    source_type = ExposuresSource
    #: A unit's segment is its first exposure's, whatever variant(s) its rows carry.
    segment_keys = ("unit_id",)

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        assert isinstance(plan.source, ExposuresSource) and plan.relation.applied_window is not None
        experiment = plan.experiment
        self.source = plan.source
        self.window: AttributionWindow = plan.relation.applied_window
        terms = experiment.goal_keys()
        goal_names = (key.goal for key in terms if key.goal != EXPOSURE)
        trigger_goals = (f.goal for f in experiment.filters if f.scope == "trigger" and f.goal != EXPOSURE)
        self.event_goals = tuple(dict.fromkeys((*goal_names, *(g for g in trigger_goals if g))))
        event_dimensions: dict[str, None] = {}
        exposure_dimensions: dict[str, None] = {}
        for key in terms:
            for dimension in key.dimensions:
                (exposure_dimensions if key.goal == EXPOSURE else event_dimensions).setdefault(dimension.name)
        for item in experiment.filters:
            if item.dimension is not None:
                wanted = exposure_dimensions if item.scope == "exposure" else event_dimensions
                wanted.setdefault(item.dimension)
        self.event_dimensions = tuple(event_dimensions)
        self.exposure_dimensions = tuple(exposure_dimensions)
        self.segment_dimensions = tuple(d for d in experiment.breakdown if d not in exposure_dimensions)
        self.lookback_seconds = _lookback_seconds(experiment)

    @classmethod
    def plan_relation(cls, experiment: Experiment, source: AnySource, terms: list[GoalKey]) -> Relation:
        """``attributed_events``: one experiment, one unit type, no dates; with a timeline each
        event's ``day``, with CUPED its ``pre_period`` flag, under ``multiple_exposures: exclude``
        the ``excluded`` flag, and when metrics' windows differ each event's timestamp and ``t0``.

        :raises ExperimentError: a goal of another unit type than the exposure log's.
        """
        assert isinstance(source, ExposuresSource)
        unit_type = source.exposures.unit_type
        for key in terms:
            if key.unit_type != unit_type:
                raise ExperimentError(
                    f"goal {key} is of unit type {key.unit_type!r}, but the exposure log's units are "
                    f"{unit_type!r} (exposures.unit_type): the exposures layout evaluates one unit type"
                )
        windows = tuple(
            dict.fromkeys(experiment.attribution_window(item) for item in _windowed_items(experiment))
        )
        windowed = len(windows) > 1
        return Relation(
            (ATTRIBUTED_EVENTS,),
            exp_variant_id="variant_id",
            unit_id="unit_id",
            goal="goal",
            cnt="cnt",
            value="value",
            event_timestamp="event_timestamp" if windowed else None,
            first_exposure="first_exposure" if windowed else None,
            applied_window=_loosest(windows) if windows else experiment.attribution_window(),
            pre_period=PRE_PERIOD if experiment.cuped_metrics() and experiment.cuped_lookback_days else None,
            day=DAY if experiment.timeline is not None else None,
            excluded=EXCLUDED if experiment.multiple_exposures == "exclude" else None,
            exposure_cnt_one=True,
        )

    def ctes(self, dialect: Dialect) -> list[exp.CTE]:
        return attribution_ctes(self.plan, self, dialect)

    def evaluated_units(self) -> exp.Expression | None:
        return not_excluded(self.relation)

    def unit_segments(self, dialect: Dialect, scanned: str) -> exp.Select:
        """Per unit: the breakdown attributes of its first exposure in the exposure log (ties: the
        smallest attributes, NULL last, then the smallest variant)."""
        keys = ["unit_id"]
        attributes: list[exp.Expression] = [column(segment.name) for segment in self.plan.segments]
        order: list[exp.Expression] = [column(EXPOSURE_TIMESTAMP)]
        tie_breaks = (column("variant_id"),)
        inner, names = first_of(self.plan, keys, attributes, order, EXPERIMENT_EXPOSURES, tie_breaks)
        return ranked_first(inner, keys, names)


def _lookback_seconds(experiment: Experiment) -> int | None:
    """CUPED's pre-exposure period in seconds (``None``: no CUPED metric)."""
    lookback = experiment.cuped_lookback_days if experiment.cuped_metrics() else None
    return round(lookback * 86_400) if lookback else None


def _windowed_items(experiment: Experiment) -> list[Metric | Check]:
    """The metrics and checks whose goals read events (not only the exposure)."""
    items: list[Metric | Check] = []
    every: list[Metric | Check] = [*experiment.metrics, *experiment.checks]
    for item in every:
        sides = [item.nominator_expr, item.denominator_expr]
        if any(goal.goal != EXPOSURE for side in sides if side is not None for goal in goals(side)):
            items.append(item)
    return items


def _loosest(windows: tuple[AttributionWindow, ...]) -> AttributionWindow:
    """The smallest window holding all of ``windows``: the earliest start to the latest end."""
    delay = min(w.delay_seconds for w in windows)
    ends = [None if w.length_seconds is None else w.delay_seconds + w.length_seconds for w in windows]
    end = None if None in ends else max(e for e in ends if e is not None)
    return AttributionWindow(delay, None if end is None else end - delay)


def attribution_ctes(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> list[exp.CTE]:
    """``experiment_exposures``, ``exposed_units`` and ``attributed_events``."""
    branches = [_exposure_branch(plan, layout)]
    ctes = [
        cte(EXPERIMENT_EXPOSURES, _experiment_exposures(plan, layout, dialect)),
        cte(EXPOSED_UNITS, _exposed_units(plan)),
    ]
    if layout.event_goals:
        branches.append(_event_branch(plan, layout, dialect))
    union: exp.Query = branches[0]
    for branch in branches[1:]:
        union = exp.Union(this=union, expression=branch, distinct=False)
    ctes.append(exp.CTE(this=union, alias=exp.TableAlias(this=identifier(ATTRIBUTED_EVENTS))))
    return ctes


def not_excluded(relation: Relation) -> exp.Expression | None:
    """The per-unit rows of units not excluded for being exposed to several variants (``None``:
    none is, with ``multiple_exposures: first``)."""
    if relation.excluded is None:
        return None
    return exp.EQ(this=column(relation.excluded), expression=number(0))


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


def _experiment_exposures(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> exp.Select:
    """The experiment's exposures in the window, with no NULL key, each with its variant as text and
    the exposure attributes the query reads."""
    unit, variant = _exposures_column(layout, "unit_id"), _exposures_column(layout, "variant")
    timestamp = _exposures_column(layout, "timestamp")
    names = [*layout.exposure_dimensions, *layout.segment_dimensions]
    dimensions = [column(name, EXPOSURES) for name in names]
    projections = [
        alias(_text(variant), "variant_id"),
        alias(unit, "unit_id"),
        *(alias(d, d.name) for d in dimensions),
        alias(timestamp, EXPOSURE_TIMESTAMP),
    ]
    if layout.relation.day is not None:
        projections.append(alias(day_of(timestamp.copy()), DAY))
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
    )


def _exposed_units(plan: Plan) -> exp.Select:
    """One row per exposed unit: its first exposure ``t0`` and the variant it is evaluated in
    (NULL when it is excluded for being exposed to several)."""
    unit, variant, timestamp = column("unit_id"), column("variant_id"), column(EXPOSURE_TIMESTAMP)
    if plan.experiment.multiple_exposures == "first":
        # The earliest exposure's variant (ties: the smallest variant id) and timestamp.
        order = exp.Order(expressions=[exp.Ordered(this=timestamp.copy()), exp.Ordered(this=variant.copy())])
        rank = exp.Window(this=exp.RowNumber(), partition_by=[unit.copy()], order=order)
        ranked = (
            exp.Select()
            .select(unit.copy(), variant.copy(), timestamp.copy(), alias(rank, EXPOSURE_RANK), copy=False)
            .from_(exp.Table(this=identifier(EXPERIMENT_EXPOSURES)), copy=False)
        )
        return (
            exp.Select()
            .select(unit, alias(variant, UNIT_VARIANT), alias(timestamp, FIRST_EXPOSURE), copy=False)
            .from_(
                exp.Subquery(this=ranked, alias=exp.TableAlias(this=identifier(RANKED_EXPOSURES))), copy=False
            )
            .where(exp.EQ(this=column(EXPOSURE_RANK), expression=number(1)), copy=False)
        )
    one_variant = exp.EQ(this=exp.Min(this=variant.copy()), expression=exp.Max(this=variant.copy()))
    unit_variant = exp.Case(ifs=[exp.If(this=one_variant, true=exp.Min(this=variant))])
    return (
        exp.Select()
        .select(
            unit,
            alias(unit_variant, UNIT_VARIANT),
            alias(exp.Min(this=timestamp), FIRST_EXPOSURE),
            copy=False,
        )
        .from_(exp.Table(this=identifier(EXPERIMENT_EXPOSURES)), copy=False)
        .group_by(unit.copy(), copy=False)
    )


def _dimensions(plan: Plan, layout: ExposuresLayout) -> list[str]:
    return list(dict.fromkeys((*layout.exposure_dimensions, *layout.event_dimensions)))


def _null_of(plan: Plan, name: str) -> exp.Expression:
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(_SQL_TYPES[plan.source.dimension_type(name)]))


def _exposure_branch(plan: Plan, layout: ExposuresLayout) -> exp.Select:
    """Every exposure as an event of goal ``exposure``; an excluded unit's under its marker variant."""

    def exposure(name: str) -> exp.Column:
        return column(name, EXPERIMENT_EXPOSURES)

    own = column(UNIT_VARIANT, EXPOSED_UNITS)
    excluded = layout.relation.excluded
    # Excluded units (no variant of their own) keep each exposure's variant, flagged.
    projections = [
        alias(own if excluded is None else exposure("variant_id"), "variant_id"),
        alias(exposure("unit_id"), "unit_id"),
        alias(exp.Literal.string(EXPOSURE), "goal"),
        alias(number(1), "cnt"),
        alias(exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE")), "value"),
    ]
    if excluded is not None:
        no_variant = exp.Is(this=own.copy(), expression=exp.Null())
        flag = exp.Case(ifs=[exp.If(this=no_variant, true=number(1))], default=number(0))
        projections.append(alias(flag, excluded))
    if plan.windowed:
        projections += [
            alias(exposure(EXPOSURE_TIMESTAMP), "event_timestamp"),
            alias(column(FIRST_EXPOSURE, EXPOSED_UNITS), FIRST_EXPOSURE),
        ]
    if layout.lookback_seconds:
        projections.append(alias(number(0), PRE_PERIOD))
    if layout.relation.day is not None:
        projections.append(alias(exposure(DAY), DAY))
    for name in _dimensions(plan, layout):
        own_column = name in layout.exposure_dimensions
        projections.append(alias(exposure(name) if own_column else _null_of(plan, name), name))
    same_unit = exp.EQ(this=exposure("unit_id"), expression=column("unit_id", EXPOSED_UNITS))
    query = (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(EXPERIMENT_EXPOSURES)), copy=False)
    )
    query.set("joins", [exp.Join(this=exp.Table(this=identifier(EXPOSED_UNITS)), on=same_unit)])
    return query


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
        alias(column(UNIT_VARIANT, EXPOSED_UNITS), "variant_id"),
        alias(column("unit_id", EXPOSED_UNITS), "unit_id"),
        alias(event(names.goal), "goal"),
        alias(cnt, "cnt"),
        alias(value, "value"),
    ]
    if layout.relation.excluded is not None:
        projections.append(alias(number(0), layout.relation.excluded))
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
        if layout.window.delay_seconds == 0:
            # The period ends where the window starts: one range, [t0 - lookback, window's end)
            # (measured on DuckDB, 10M events: ~5 % of the CUPED query against the OR below).
            attribution = [exp.GTE(this=timestamp.copy(), expression=lookback), *attribution[1:]]
        else:
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
    wanted = [exp.Literal.string(goal) for goal in layout.event_goals]
    conditions: list[exp.Expression] = [
        exp.In(this=event(names.goal), expressions=wanted)
        if len(wanted) > 1
        else exp.EQ(this=event(names.goal), expression=wanted[0]),
        *attribution,
        *_pruning(plan, layout, dialect),
    ]
    same_unit: exp.Expression = exp.EQ(this=event(names.unit_id), expression=column("unit_id", EXPOSED_UNITS))
    if plan.experiment.multiple_exposures == "exclude":  # excluded units: their exposures only
        evaluated = exp.Not(this=exp.Is(this=column(UNIT_VARIANT, EXPOSED_UNITS), expression=exp.Null()))
        same_unit = conjunction([same_unit, evaluated])
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
