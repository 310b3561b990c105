"""The interface of a source layout: where the events the scan reads come from.

The plan records *what* the experiment needs; a layout says *where* its events come from: the
relation the scan reads (:class:`~expsql.compiler.relation.Relation`, planned before the plan
exists) and the SQL that defines it (CTEs before the scan, which units are evaluated, where a
unit's breakdown attributes are read). The row builders (goal, metric, unit rows, the timeline)
see only this interface, never a layout's class.

Adding a layout is one module and one registration, nothing in the builders::

    # expsql/compiler/layouts/sessions.py
    class SessionsLayout(Layout):
        \"\"\"Events already grouped into sessions, one row per session.\"\"\"

        source_type = SessionsSource                      # the source model it reads

        @classmethod
        def plan_relation(cls, experiment, source, terms):     # validate, name the scan's columns
            return Relation(("sessionized",), exp_variant_id="variant", unit_id="user_id", ...)

        def ctes(self, dialect):                          # what defines "sessionized"
            return [cte("sessionized", ...)]

    # expsql/compiler/layouts/__init__.py
    LAYOUTS = (AttributedLayout, ExposuresLayout, SessionsLayout)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from sqlglot import exp

from expsql.compiler.plan import Plan
from expsql.compiler.relation import Relation
from expsql.dialects.base import Dialect
from expsql.grammar.ast import GoalKey
from expsql.models import Experiment
from expsql.source import AnySource


class Layout(ABC):
    """A source layout, bound to the plan of one query.

    :param plan: the plan whose :attr:`~expsql.compiler.plan.Plan.relation` this layout planned.
    """

    #: The source model this layout reads (:mod:`expsql.source`); one layout per model.
    source_type: ClassVar[type]
    #: The scan's columns that identify a unit for its breakdown segment (:mod:`..segments`).
    segment_keys: ClassVar[tuple[str, ...]]

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    @property
    def relation(self) -> Relation:
        """The relation the scan reads, as :meth:`plan_relation` planned it."""
        return self.plan.relation

    @classmethod
    @abstractmethod
    def plan_relation(cls, experiment: Experiment, source: AnySource, terms: list[GoalKey]) -> Relation:
        """The relation the scan reads for ``experiment`` over ``source``, whose goal terms are
        ``terms``: its table and column names, and what it has already applied.

        :raises ExperimentError: the experiment asks for something this layout cannot give.
        """

    @abstractmethod
    def ctes(self, dialect: Dialect) -> list[exp.CTE]:
        """The CTEs that define the relation, before the scan (none for a table)."""

    def evaluated_units(self) -> exp.Expression | None:
        """Which per-unit rows are units of the experiment's variants (``None``: all are), e.g.
        for the pool of winsorization's percentiles."""
        return None

    def segment_candidates(self, dialect: Dialect) -> list[exp.Expression]:
        """What the scan adds so that :meth:`unit_segments` can read it (nothing: read elsewhere)."""
        return []

    @abstractmethod
    def unit_segments(self, dialect: Dialect, scanned: str) -> exp.Select:
        """One row per unit (:attr:`segment_keys`): its breakdown attributes, as segment columns,
        given the name of the scan's CTE (``scanned``)."""
