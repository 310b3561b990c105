"""Which events table each goal is read from, in the exposures layout.

A source's ``events`` is one table or several. One table that does not say which goals it holds
holds every goal (the events of any goal a metric names are read from it). With several, each
says (``goal``: every row is that goal; ``goals``: what its goal column holds), and every goal the
experiment reads resolves to exactly one table: a goal in none or in two is an error naming the
tables. Each table is read once, for the goals resolved to it and the dimension columns it
declares; a table no goal resolves to is not read at all.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from expsql.compiler.relation import EXPOSURE
from expsql.errors import ExperimentError
from expsql.models import Experiment
from expsql.source import EventsTable, ExposuresSource


@dataclass(frozen=True)
class TableRead:
    """One events table as the query reads it.

    :param goals: the goals resolved to it, in the experiment's order.
    :param dimensions: the dimension columns read from it (the other tables' are NULL in its rows).
    """

    table: EventsTable
    goals: tuple[str, ...]
    dimensions: tuple[str, ...]


def event_goals(experiment: Experiment) -> tuple[str, ...]:
    """The goals read from the events tables (never ``exposure``), trigger filters' included."""
    terms = (key.goal for key in experiment.goal_keys() if key.goal != EXPOSURE)
    triggers = (f.goal for f in experiment.filters if f.scope == "trigger" and f.goal not in (None, EXPOSURE))
    return tuple(dict.fromkeys((*terms, *(goal for goal in triggers if goal))))


def dimensions_read(experiment: Experiment) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The dimension columns read from the events, and from the exposure log."""
    events: dict[str, None] = {}
    exposures: dict[str, None] = {}
    for key in experiment.goal_keys():
        for dimension in key.dimensions:
            (exposures if key.goal == EXPOSURE else events).setdefault(dimension.name)
    for item in experiment.filters:
        if item.dimension is not None:
            (exposures if item.scope == "exposure" else events).setdefault(item.dimension)
    return tuple(events), tuple(exposures)


def table_reads(experiment: Experiment, source: ExposuresSource) -> tuple[TableRead, ...]:
    """The events tables the query reads, each with its goals and dimension columns.

    :raises ExperimentError: a goal that no table, or more than one, holds; a dimension a goal's
        term or filter reads that its table does not declare (several tables only).
    """
    goals = event_goals(experiment)
    dimensions = dimensions_read(experiment)[0]
    tables = source.events
    if len(tables) == 1 and tables[0].goal is None and tables[0].goals is None:
        return (TableRead(tables[0], goals, dimensions),) if goals else ()
    resolved = {goal: _table_of(goal, tables) for goal in goals}
    _check_dimensions(experiment, tables, resolved)
    reads = []
    for index, table in enumerate(tables):
        own = tuple(goal for goal in goals if resolved[goal] == index)
        if own:
            reads.append(TableRead(table, own, tuple(d for d in dimensions if d in table.dimensions)))
    return tuple(reads)


def _table_of(goal: str, tables: tuple[EventsTable, ...]) -> int:
    holders = [index for index, table in enumerate(tables) if table.holds(goal)]
    if len(holders) == 1:
        return holders[0]
    if holders:
        names = " and ".join(repr(tables[index].table) for index in holders)
        raise ExperimentError(
            f"goal {goal!r} is held by the events tables {names}: a goal is read from one table"
        )
    known = [name for table in tables for name in table.declared_goals()]
    close = difflib.get_close_matches(goal, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = "; ".join(f"{table.table!r}: {', '.join(table.declared_goals())}" for table in tables)
    raise ExperimentError(f"goal {goal!r} is in none of the events tables ({listed}).{hint}")


def _check_dimensions(
    experiment: Experiment, tables: tuple[EventsTable, ...], resolved: dict[str, int]
) -> None:
    """A dimension a goal's term or a goal-scoped filter reads is declared by that goal's table."""
    wanted = [
        (key.goal, dimension.name, f"goal {key}")
        for key in experiment.goal_keys()
        if key.goal != EXPOSURE
        for dimension in key.dimensions
    ]
    wanted += [
        (item.goal, item.dimension, f"filters.{index} ({item.scope} filter)")
        for index, item in enumerate(experiment.filters)
        if item.scope != "exposure" and item.goal not in (None, EXPOSURE) and item.dimension is not None
    ]
    for goal, name, what in wanted:
        if goal is None or goal not in resolved:
            continue
        table = tables[resolved[goal]]
        if name not in table.dimensions:
            raise ExperimentError(
                f"{what} reads dimension {name!r}, which the events table {table.table!r} of goal "
                f"{goal!r} does not declare (its dimensions: {', '.join(table.dimensions) or 'none'})"
            )
