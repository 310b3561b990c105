"""A refresh's statements: the state tables of a new version, and the query that reads them.

Each source layout keeps its state through a small family of inputs (:mod:`.exposures`,
:mod:`.attributed`), found here by the type of the source, as the compiler finds its layouts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlglot import exp

from expsql.compiler import compile_tree
from expsql.compiler.layouts import plan_query
from expsql.compiler.nodes import identifier
from expsql.dialects import Dialect
from expsql.dialects.frames import table_node
from expsql.errors import ExperimentError
from expsql.incremental import attributed, exposures
from expsql.incremental.inputs import StateInput, Window
from expsql.incremental.state import StateTables, Tiers
from expsql.models import Experiment
from expsql.source import AnySource, ExposuresSource, Source

#: The version of the state's shape: a state built by another shape is rebuilt.
STATE_FORMAT: Final = 2
#: The bounds the plan's hash renders its statements with (any fixed moments would do).
_HASH_WINDOW: Final = Window(dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 2))


@dataclass(frozen=True)
class RefreshPlan:
    """What one experiment's state is made of.

    :param inputs: one per source table the query reads, the exposure log's first.
    :param source: the source the refresh query is compiled for (:func:`.exposures.state_source`).
    :param settle_point: the watermark a moment settles (the attributed layout: a midnight).
    """

    experiment: Experiment
    dialect: Dialect
    inputs: tuple[StateInput, ...]
    source: AnySource
    settle_point: Callable[[dt.datetime], dt.datetime]

    def settle_statements(
        self, tables: StateTables, previous: Tiers | None, new: Tiers, window: Window
    ) -> list[str]:
        """``CREATE TABLE … AS`` each input's table of the ``new`` version: its base (a merge of
        all the ``previous`` version holds) when ``new`` starts a base, else its recent table (a
        merge of the previous recent one), each with the raw rows of ``window``."""
        written: dict[str, list[str]] = {}
        statements = []
        for state_input in self.inputs:
            part = state_input.part
            if new.version == new.base_version:
                sources = [] if previous is None else previous.tables(tables, part)
                name = tables.table(new.version, f"{part}_base")
            else:
                assert previous is not None, "a recent table follows a version"
                sources = previous.tables(tables, part)[1:]
                name = tables.table(new.version, f"{part}_recent")
            rows = state_input.settle(sources, window, written)
            create = exp.Create(this=table_node(name), kind="TABLE", expression=rows)
            statements.append(self.dialect.render(create))
            written[part] = new.tables(tables, part)
        return statements

    def query(self, tables: StateTables, new: Tiers, since: dt.datetime, rows: str) -> str:
        """The experiment's ``rows`` query reading the state's ``new`` version and the raw rows
        from ``since`` on in place of each source table."""
        written = {state_input.part: new.tables(tables, state_input.part) for state_input in self.inputs}
        currents = {
            (state_input.table_parts, state_input.alias_name): state_input.current(
                written[state_input.part], since, written
            )
            for state_input in self.inputs
        }
        tree = compile_tree(self.experiment, rows=rows, source=self.source, dialect=self.dialect)

        def swap(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Table) or not node.alias:
                return node
            key = (tuple(part.name for part in node.parts), node.alias)
            current = currents.get(key)
            if current is None:
                return node
            return exp.Subquery(this=current.copy(), alias=exp.TableAlias(this=identifier(node.alias)))

        return self.dialect.render(tree.transform(swap, copy=False))

    def hash(self, tables: StateTables) -> str:
        """The hash of what the state holds: its statements, rendered with fixed bounds."""
        # Both shapes: a base merged from a base and a recent table, a recent one from a recent one.
        statements = [
            *self.settle_statements(tables, Tiers(2, 1), Tiers(3, 3), _HASH_WINDOW),
            *self.settle_statements(tables, Tiers(2, 1), Tiers(3, 1), _HASH_WINDOW),
        ]
        text = "\n".join([f"format {STATE_FORMAT}", self.dialect.name, *statements])
        return hashlib.sha256(text.encode()).hexdigest()


def plan_refresh(experiment: Experiment, source: AnySource, dialect: Dialect) -> RefreshPlan:
    """The state of ``experiment`` over ``source``.

    :raises ExperimentError: the experiment does not fit the source.
    """
    if isinstance(source, ExposuresSource):
        plan = plan_query(experiment, source)
        compiled = exposures.state_source(source)
        return RefreshPlan(
            experiment,
            dialect,
            tuple(exposures.exposures_inputs(plan, dialect)),
            compiled,
            lambda moment: moment,
        )
    if isinstance(source, Source):
        plan = plan_query(experiment, source)
        return RefreshPlan(
            experiment, dialect, tuple(attributed.attributed_inputs(plan)), source, attributed.settle_point
        )
    raise ExperimentError(f"no incremental state for a {type(source).__name__}")
