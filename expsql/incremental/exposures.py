"""The state of the exposures-and-events layout: the experiment's exposures, and each events
table's events of exposed units, compacted relative to each unit's first exposure.

- **Exposures** are kept as they are (the experiment's rows, the columns the query reads): a unit's
  exposure count, first exposure, variants and first attributes all come from them, and there are
  few per unit.
- **Events** are kept only for units already exposed, whose ``t0`` no later exposure can move, and
  only where some rule can count them (the loosest attribution window, CUPED's pre-period). Events
  of one unit, goal and dimension values fall in one row when they lie on the same side of every
  bound the query compares a timestamp with: each window's start and end relative to ``t0``, the
  pre-period's, and with a timeline the day. The row carries the earliest timestamp, the summed
  count and value, so every comparison, hence every sum, is the one the events give.
- A unit first exposed after the watermark has no events in the state: with CUPED, its
  pre-period events before the watermark are read from the raw table (``[since - lookback,
  since)``, for units the state does not hold), so a refresh with CUPED reads ``lookback`` more.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlglot import exp

from expsql.compiler.layouts import ExposuresLayout, layout_of
from expsql.compiler.layouts.attribution import (
    earliest_event,
    event_unit,
    experiment_end,
    experiment_start,
    timestamp_literal,
)
from expsql.compiler.nodes import alias, column, conjunction, day_of, literal, number
from expsql.compiler.plan import Plan
from expsql.compiler.predicates import dimension_predicate, shifted
from expsql.dialects.base import Dialect
from expsql.incremental.inputs import (
    StateInput,
    Window,
    not_null,
    same_names,
    select_from,
    state_table,
    subquery,
    union_all,
)
from expsql.models import AttributionWindow, Check, Metric
from expsql.source import EventsTable, ExposuresSource

#: The count column of a state events table whose source table has none (each row counts 1).
COUNT_COLUMN: Final = "expsql_count"
#: Marks the raw rows in a compaction (0: the previous state's).
RAW: Final = "expsql_raw"
#: Each unit's first exposure, read from the new state's exposures.
FIRST_EXPOSURE: Final = "expsql_t0"
UNITS: Final = "expsql_units"


def state_source(source: ExposuresSource) -> ExposuresSource:
    """``source`` as the refresh query reads it: each events table with a count column (the state
    sums rows) and no partition column (the raw reads prune partitions themselves)."""
    tables = tuple(
        table.model_copy(
            update={
                "columns": table.columns.model_copy(update={"count": table.columns.count or COUNT_COLUMN}),
                "partition_date": None,
            }
        )
        for table in source.events
    )
    return source.model_copy(update={"events": tables})


def exposures_inputs(plan: Plan, dialect: Dialect) -> list[StateInput]:
    """The exposure log's input, then one per events table the query reads."""
    layout = layout_of(plan)
    assert isinstance(layout, ExposuresLayout)
    inputs: list[StateInput] = [ExposureLog(plan, layout, dialect)]
    reads: dict[str, tuple[EventsTable, list[str], list[str]]] = {}
    for read in layout.event_reads:  # a table read for two entries of ``events`` is kept once
        table, goals, dimensions = reads.setdefault(read.table.table, (read.table, [], []))
        goals.extend(g for g in read.goals if g not in goals)
        dimensions.extend(d for d in read.dimensions if d not in dimensions)
    for index, (table, goals, dimensions) in enumerate(reads.values()):
        # Sorted: the state holds the same whatever order the metrics name them in (the plan hash).
        inputs.append(
            EventTable(
                plan,
                layout,
                dialect,
                table,
                f"events_{index}",
                tuple(sorted(goals)),
                tuple(sorted(dimensions)),
            )
        )
    return inputs


def _predicates(plan: Plan, dialect: Dialect, names: tuple[str, ...]) -> dict[str, list[exp.Expression]]:
    """Each predicate the query tests a dimension column with (its terms' and its filters'), by
    column, in a stable order."""
    found: dict[str, dict[str, exp.Expression]] = {}
    dimensions = [d for key in plan.terms for d in key.dimensions]
    dimensions += [f.dimension for f in (*plan.goal_filters, *plan.unit_filters) if f.dimension is not None]
    for dimension in dimensions:
        if dimension.name in names:
            test = dimension_predicate(plan, dimension, dialect)
            found.setdefault(dimension.name, {})[dialect.render(test, pretty=False)] = test
    return {name: [tests[key] for key in sorted(tests)] for name, tests in found.items()}


def _flag(test: exp.Expression) -> exp.Expression:
    """1 where ``test`` holds, else 0 (NULL included)."""
    return exp.Case(ifs=[exp.If(this=test.copy(), true=number(1))], default=number(0))


class ExposureLog(StateInput):
    """The experiment's exposures with the columns the query reads."""

    part = "exposures"
    alias_name = "exposures"

    def __init__(self, plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> None:
        self.plan, self.dialect = plan, dialect
        self.log = layout.source.exposures
        names = self.log.columns
        self.unit, self.timestamp = names.unit_id, names.timestamp
        dimensions = sorted({*layout.exposure_dimensions, *layout.segment_dimensions})
        self.columns = [names.unit_id, names.exp_id, names.variant, names.timestamp, *dimensions]
        self.table = self.log.table

    def _raw(self, window: Window) -> exp.Select:
        names = self.log.columns
        timestamp = column(names.timestamp, self.alias_name)
        start, end = experiment_start(self.plan), experiment_end(self.plan)
        since = max((m for m in (start, window.since) if m is not None), default=None)
        until = min((m for m in (end, window.until) if m is not None), default=None)
        conditions: list[exp.Expression] = [
            exp.EQ(
                this=column(names.exp_id, self.alias_name),
                expression=exp.Literal.string(self.plan.experiment.id),
            ),
            *(not_null(column(c, self.alias_name)) for c in (names.unit_id, names.variant, names.timestamp)),
        ]
        if since is not None:
            conditions.append(
                exp.GTE(this=timestamp.copy(), expression=timestamp_literal(since, self.dialect))
            )
        if until is not None:
            conditions.append(
                exp.LT(this=timestamp.copy(), expression=timestamp_literal(until, self.dialect))
            )
        source = state_table(self.table, self.alias_name)
        return select_from(same_names(self.columns, self.alias_name), source, conditions)

    def _state(self, name: str) -> exp.Select:
        return select_from(same_names(self.columns, self.alias_name), state_table(name, self.alias_name))

    def settle(self, previous: list[str], window: Window, tables: dict[str, list[str]]) -> exp.Query:
        return union_all([*(self._state(name) for name in previous), self._raw(window)])

    def current(self, state: list[str], since: dt.datetime, tables: dict[str, list[str]]) -> exp.Query:
        return union_all([*(self._state(name) for name in state), self._raw(Window(since, None))])


class EventTable(StateInput):
    """One events table: the events of exposed units where some rule can count them, compacted."""

    def __init__(
        self,
        plan: Plan,
        layout: ExposuresLayout,
        dialect: Dialect,
        table: EventsTable,
        part: str,
        goals: tuple[str, ...],
        dimensions: tuple[str, ...],
    ) -> None:
        self.plan, self.layout, self.dialect, self.events = plan, layout, dialect, table
        self.part, self.table, self.alias_name = part, table.table, "events"
        self.goals = goals
        names = table.columns
        self.count = names.count or COUNT_COLUMN
        self.dimensions = dimensions
        self.predicates = _predicates(plan, dialect, dimensions)
        self.keys = [names.unit_id, *([names.goal] if table.goal_column else []), *dimensions]
        self.measures = [self.count, *([names.value] if names.value is not None else [])]
        self.columns = [*self.keys, names.timestamp, *self.measures]
        self.lookback = layout.lookback_seconds or 0
        self.exposure_unit = layout.source.exposures.columns.unit_id
        self.exposure_timestamp = layout.source.exposures.columns.timestamp

    # What a compaction keeps and what it must not merge.

    def _windows(self) -> list[AttributionWindow]:
        """The experiment's window and every metric's and check's."""
        experiment = self.plan.experiment
        items: list[Metric | Check] = [*experiment.metrics, *experiment.checks]
        return [experiment.attribution_window(), *(experiment.attribution_window(item) for item in items)]

    def _offsets(self) -> list[int]:
        """Each bound the query compares an event's timestamp with, in seconds after ``t0``."""
        windows = set(self._windows())
        offsets = {w.delay_seconds for w in windows} | {
            w.end_seconds for w in windows if w.end_seconds is not None
        }
        if self.lookback:
            offsets |= {-self.lookback, 0}
        return sorted(offsets)

    def _kept(self, timestamp: exp.Expression, t0: exp.Expression) -> list[exp.Expression]:
        """The events some rule can count: from the earliest bound (the pre-period's start, or the
        smallest delay) to the latest window end (none when a window has no end)."""
        windows = self._windows()
        first = -self.lookback if self.lookback else min(w.delay_seconds for w in windows)
        conditions: list[exp.Expression] = [exp.GTE(this=timestamp, expression=shifted(t0, first))]
        ends = [w.end_seconds for w in windows]
        if None not in ends:
            last = max(e for e in ends if e is not None)
            conditions.append(exp.LT(this=timestamp.copy(), expression=shifted(t0.copy(), last)))
        return conditions

    def _zone(self, timestamp: exp.Expression, t0: exp.Expression) -> exp.Expression:
        """How many of the bounds the event is at or after: one value per interval between them."""
        steps: list[exp.Expression] = [
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.GTE(this=timestamp.copy(), expression=shifted(t0.copy(), o)), true=number(1)
                    )
                ],
                default=number(0),
            )
            for o in self._offsets()
        ]
        total = steps[0]
        for step in steps[1:]:
            total = exp.Add(this=total, expression=step)
        return total

    # The raw rows.

    def _unit(self, table: str) -> exp.Expression:
        return event_unit(self.events, column(self.events.columns.unit_id, table))

    def _raw(
        self, since: dt.datetime | None, until: dt.datetime | None, extra: list[exp.Expression]
    ) -> exp.Select:
        names = self.events.columns
        events = self.alias_name
        timestamp = column(names.timestamp, events)
        earliest, end = earliest_event(self.plan, self.layout), experiment_end(self.plan)
        lower = max((m for m in (earliest, since) if m is not None), default=None)
        upper = min((m for m in (end, until) if m is not None), default=None)
        conditions: list[exp.Expression] = []
        if self.events.goal_column is not None:
            wanted = [exp.Literal.string(goal) for goal in self.goals]
            conditions.append(exp.In(this=column(self.events.goal_column, events), expressions=wanted))
        if lower is not None:
            conditions.append(
                exp.GTE(this=timestamp.copy(), expression=timestamp_literal(lower, self.dialect))
            )
        if upper is not None:
            conditions.append(
                exp.LT(this=timestamp.copy(), expression=timestamp_literal(upper, self.dialect))
            )
        if self.events.partition_date is not None and lower is not None:
            partition = column(self.events.partition_date, events)
            conditions.append(exp.GTE(this=partition, expression=literal(lower.date())))
        count: exp.Expression = number(1) if names.count is None else column(names.count, events)
        projections = [
            *same_names(self.keys[:1], events),
            *same_names(self.keys[1:], events),
            alias(timestamp, names.timestamp),
            alias(count, self.count),
            *same_names(self.measures[1:], events),
        ]
        return select_from(projections, state_table(self.table, events), [*conditions, *extra])

    def _state(self, name: str) -> exp.Select:
        return select_from(same_names(self.columns, self.alias_name), state_table(name, self.alias_name))

    def _units(self, exposures: list[str]) -> exp.Select:
        """Each unit of the new version's exposures and its first exposure."""
        unit = column(self.exposure_unit)
        log = union_all(
            [
                select_from(
                    same_names([self.exposure_unit, self.exposure_timestamp]), state_table(name, "exposures")
                )
                for name in exposures
            ]
        )
        query = select_from(
            [
                alias(unit, self.exposure_unit),
                alias(exp.Min(this=column(self.exposure_timestamp)), FIRST_EXPOSURE),
            ],
            subquery(log, "exposures"),
        )
        return query.group_by(unit.copy(), copy=False)

    def settle(self, previous: list[str], window: Window, tables: dict[str, list[str]]) -> exp.Query:
        names = self.events.columns
        since = window.since
        raw_since = (
            since - dt.timedelta(seconds=self.lookback) if since is not None and self.lookback else since
        )
        raw = self._raw(raw_since, window.until, [])
        raw.select(alias(number(1), RAW), copy=False)
        branches = [raw]
        for name in reversed(previous):
            branches.insert(0, self._state(name).select(alias(number(0), RAW), copy=False))
        # Aliased as the query aliases the table, so the compiler's own dimension predicates apply.
        rows = subquery(union_all(branches), self.alias_name)
        timestamp, t0 = column(names.timestamp, self.alias_name), column(FIRST_EXPOSURE, UNITS)
        same_unit = exp.EQ(this=self._unit(self.alias_name), expression=column(self.exposure_unit, UNITS))
        conditions = self._kept(timestamp, t0)
        if since is not None and self.lookback:
            # Raw rows before the watermark only for the units the previous state did not hold.
            settled = [
                exp.EQ(this=column(RAW, self.alias_name), expression=number(0)),
                exp.GTE(this=timestamp.copy(), expression=timestamp_literal(since, self.dialect)),
                exp.GTE(this=t0.copy(), expression=timestamp_literal(since, self.dialect)),
            ]
            conditions.append(exp.Paren(this=exp.or_(*settled, copy=False)))
        identity = self.keys[: len(self.keys) - len(self.dimensions)]
        groups: list[exp.Expression] = [column(name, self.alias_name) for name in identity]
        projections: list[exp.Expression] = same_names(identity, self.alias_name)
        for name in self.dimensions:
            tests = self.predicates.get(name)
            if tests:
                # Values every predicate on the column tells apart the same way share a row: any
                # one of them (the smallest) stands for all.
                groups += [_flag(test) for test in tests]
                projections.append(alias(exp.Min(this=column(name, self.alias_name)), name))
            else:
                groups.append(column(name, self.alias_name))
                projections.append(alias(column(name, self.alias_name), name))
        groups.append(self._zone(timestamp, t0))
        if self.plan.experiment.timeline is not None:
            groups.append(day_of(timestamp.copy()))
        projections += [
            alias(exp.Min(this=timestamp.copy()), names.timestamp),
            *(alias(exp.Sum(this=column(name, self.alias_name)), name) for name in self.measures),
        ]
        query = select_from(projections, rows, conditions)
        query.set("joins", [exp.Join(this=subquery(self._units(tables["exposures"]), UNITS), on=same_unit)])
        return query.group_by(*groups, copy=False)

    def current(self, state: list[str], since: dt.datetime, tables: dict[str, list[str]]) -> exp.Query:
        extra: list[exp.Expression] = []
        raw_since = since
        if self.lookback:
            # CUPED: the pre-period before the watermark of the units the state does not hold yet.
            raw_since = since - dt.timedelta(seconds=self.lookback)
            # NOT EXISTS, an anti-join on every engine (Spark plans NOT IN as a nested loop).
            same_unit = exp.EQ(
                this=column(self.exposure_unit, "held"), expression=self._unit(self.alias_name)
            )
            new_unit = conjunction(
                [
                    exp.Not(
                        this=exp.Exists(
                            this=select_from([number(1)], state_table(name, "held"), [same_unit.copy()])
                        )
                    )
                    for name in tables["exposures"]
                ]
            )
            timestamp = column(self.events.columns.timestamp, self.alias_name)
            after = exp.GTE(this=timestamp, expression=timestamp_literal(since, self.dialect))
            extra.append(exp.Paren(this=exp.or_(after, new_unit, copy=False)))
        return union_all([*(self._state(name) for name in state), self._raw(raw_since, None, extra)])
