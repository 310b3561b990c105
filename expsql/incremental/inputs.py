"""The interface of a state input: one source table of an experiment, kept in the state.

A refresh keeps, per source table the experiment's query reads, a state table with the **same
columns** that holds the rows settled so far, compacted: rows that no comparison of the query can
tell apart are summed into one. The refresh query is then the experiment's own full query, compiled
as for a run, with each source table replaced by its state input's :meth:`StateInput.current`
(the state, then the raw rows since the watermark): the compiler does not know it reads a state,
and every feature it has reads the state as it reads the source.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass

from sqlglot import exp

from expsql.compiler.nodes import alias, column, conjunction, identifier, table


@dataclass(frozen=True)
class Window:
    """The raw rows one statement reads: from ``since`` (``None``: the beginning) to ``until``
    (``None``: the end); the state holds every row before ``since``."""

    since: dt.datetime | None
    until: dt.datetime | None


class StateInput(ABC):
    """One source table kept in the state.

    :param part: its state table's suffix (``exposures``, ``events_0``).
    :param table: the source table's name, as the source names it.
    :param alias_name: the alias the experiment's query gives the table.
    """

    part: str
    table: str
    alias_name: str

    @property
    def table_parts(self) -> tuple[str, ...]:
        return tuple(self.table.split("."))

    @abstractmethod
    def settle(self, previous: list[str], window: Window, tables: dict[str, list[str]]) -> exp.Query:
        """The rows of a new state table: the ``previous`` state tables' (none: from the raw rows
        alone) and the raw rows of ``window``, compacted. ``tables`` names, by part, the tables of
        the new version written before this one (the exposures' first: the events read each
        unit's ``t0`` there).
        """

    @abstractmethod
    def current(self, state: list[str], since: dt.datetime, tables: dict[str, list[str]]) -> exp.Query:
        """The rows the refresh query reads in place of the source table: the ``state`` tables'
        and the raw rows from ``since`` on (``tables``: the new version's tables, by part)."""


def state_table(name: str, alias_name: str) -> exp.Table:
    """The table ``name`` (``table``, ``schema.table`` or ``catalog.schema.table``), aliased."""
    return table(tuple(name.split(".")), alias_name)


def select_from(
    projections: list[exp.Expression], source: exp.Expression, conditions: list[exp.Expression] | None = None
) -> exp.Select:
    query = exp.Select().select(*projections, copy=False).from_(source, copy=False)
    if conditions:
        query = query.where(conjunction(conditions), copy=False)
    return query


def union_all(queries: list[exp.Select]) -> exp.Query:
    union: exp.Query = queries[0]
    for query in queries[1:]:
        union = exp.Union(this=union, expression=query, distinct=False)
    return union


def subquery(query: exp.Query, alias_name: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=identifier(alias_name)))


def same_names(names: list[str], table: str | None = None) -> list[exp.Expression]:
    """Each column under its own name (so a union's branches line up by name and position)."""
    return [alias(column(name, table), name) for name in names]


def not_null(target: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=target, expression=exp.Null()))
