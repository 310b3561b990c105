"""Source layouts: where the events the scan reads come from, one module per layout behind
:class:`~.base.Layout` (its docstring shows how to add one).

- :mod:`.attributed` — the seed's attributed events table, read directly
- :mod:`.exposures`  — an exposure log and raw events, attributed in SQL

A source model (:mod:`expsql.source`) picks its layout here, as a dialect's name picks its plugin.
"""

from __future__ import annotations

from typing import Final

from expsql.compiler.layouts.attributed import AttributedLayout
from expsql.compiler.layouts.base import Layout
from expsql.compiler.layouts.exposures import ExposuresLayout
from expsql.compiler.plan import Plan, build_plan
from expsql.errors import ExperimentError
from expsql.models import Experiment
from expsql.source import AnySource

#: Every layout, found by the type of the source it reads.
LAYOUTS: Final[tuple[type[Layout], ...]] = (AttributedLayout, ExposuresLayout)


def layout_class(source: AnySource) -> type[Layout]:
    """The layout that reads ``source``.

    :raises ExperimentError: no layout reads a source of that type.
    """
    for layout in LAYOUTS:
        if isinstance(source, layout.source_type):
            return layout
    known = ", ".join(layout.source_type.__name__ for layout in LAYOUTS)
    raise ExperimentError(f"no source layout reads a {type(source).__name__} (layouts read: {known})")


def plan_query(experiment: Experiment, source: AnySource) -> Plan:
    """The plan of ``experiment`` over ``source``, with the relation its layout reads.

    :raises ExperimentError: the experiment does not fit the source (:func:`build_plan`, and the
        layout's own refusals).
    """
    relation = layout_class(source).plan_relation(experiment, source, experiment.goal_keys())
    return build_plan(experiment, source, relation)


def layout_of(plan: Plan) -> Layout:
    """The layout of ``plan``'s source, bound to the plan."""
    return layout_class(plan.source)(plan)


__all__ = [
    "LAYOUTS",
    "AttributedLayout",
    "ExposuresLayout",
    "Layout",
    "layout_class",
    "layout_of",
    "plan_query",
]
