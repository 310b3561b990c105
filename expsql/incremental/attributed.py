"""The state of the attributed layout: the experiment's rows of its events table, summed per unit,
variant, goal, dimension values and day.

Rows are already attributed, so nothing depends on a later row: a day's rows settle once the
late-arrival margin has passed the end of that day (the watermark is a midnight). Each state row
carries the earliest ``date`` of its group (the column may be a timestamp), so the date window,
the timeline's days and the order of a unit's exposure events compare as the events do.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlglot import exp

from expsql.compiler.nodes import alias, column, day_of, literal
from expsql.compiler.plan import Plan
from expsql.compiler.predicates import date_window
from expsql.incremental.inputs import (
    StateInput,
    Window,
    same_names,
    select_from,
    state_table,
    subquery,
    union_all,
)
from expsql.source import Source

ROWS: Final = "expsql_rows"


def attributed_inputs(plan: Plan) -> list[StateInput]:
    assert isinstance(plan.source, Source)
    return [AttributedEvents(plan, plan.source)]


def settle_point(moment: dt.datetime) -> dt.datetime:
    """The attributed layout settles whole days: the midnight at or before ``moment``."""
    return dt.datetime.combine(moment.date(), dt.time())


class AttributedEvents(StateInput):
    """The experiment's attributed events, summed."""

    part = "events_0"
    alias_name = "events"

    def __init__(self, plan: Plan, source: Source) -> None:
        self.plan, self.source, self.table = plan, source, source.table
        names = source.columns
        experiment = plan.experiment
        dimensions = sorted(
            {
                *plan.dimension_names,
                *experiment.breakdown,
                *(item.dimension for item in experiment.filters if item.dimension is not None),
            }
        )
        fixed = [
            names.exp_id,
            names.exp_variant_id,
            names.unit_type,
            names.agg_type,
            names.goal,
            names.unit_id,
        ]
        self.keys = [name for name in fixed if name is not None] + [d for d in dimensions if d not in fixed]
        self.measures = [names.cnt, names.value]
        self.date = names.date
        self.columns = [*self.keys, self.date, *self.measures]

    def _raw(self, window: Window) -> exp.Select:
        events = self.alias_name
        date = column(self.date, events)
        conditions: list[exp.Expression] = [
            exp.EQ(
                this=column(self.source.columns.exp_id, events),
                expression=exp.Literal.string(self.plan.experiment.id),
            ),
            *date_window(date, self.plan.experiment),
        ]
        if window.since is not None:
            conditions.append(exp.GTE(this=date.copy(), expression=literal(window.since.date())))
        if window.until is not None:
            conditions.append(exp.LT(this=date.copy(), expression=literal(window.until.date())))
        return select_from(same_names(self.columns, events), state_table(self.table, events), conditions)

    def _state(self, name: str) -> exp.Select:
        return select_from(same_names(self.columns, self.alias_name), state_table(name, self.alias_name))

    def settle(self, previous: list[str], window: Window, tables: dict[str, list[str]]) -> exp.Query:
        branches = [*(self._state(name) for name in previous), self._raw(window)]
        date = column(self.date, ROWS)
        projections = [
            *same_names(self.keys, ROWS),
            alias(exp.Min(this=date), self.date),
            *(alias(exp.Sum(this=column(name, ROWS)), name) for name in self.measures),
        ]
        query = select_from(projections, subquery(union_all(branches), ROWS))
        return query.group_by(*(column(name, ROWS) for name in self.keys), day_of(date.copy()), copy=False)

    def current(self, state: list[str], since: dt.datetime, tables: dict[str, list[str]]) -> exp.Query:
        return union_all([*(self._state(name) for name in state), self._raw(Window(since, None))])
