"""The attributed layout (the seed's): one events table whose rows are already attributed to the
experiments and variants their unit was exposed to; the scan reads it directly, its WHERE picks
the experiment and the date window, and the exposure is a goal like any other."""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.first_rows import first_of, ranked_first
from expsql.compiler.layouts.base import Layout
from expsql.compiler.nodes import alias, column, conjunction, number
from expsql.compiler.predicates import event_column, goal_predicate
from expsql.compiler.relation import Relation
from expsql.dialects.base import Dialect
from expsql.errors import ExperimentError
from expsql.grammar.ast import GoalKey
from expsql.models import Check, Experiment, Metric
from expsql.source import AnySource, Source

#: The scan's columns :meth:`AttributedLayout.unit_segments` reads: each event's date and whether
#: it is an exposure event.
SEGMENT_DATE = "segment_date"
EXPOSURE_FLAG = "segment_exposure"


class AttributedLayout(Layout):
    """The seed layout: the scan reads the configured events table; no CTE before it."""

    source_type = Source
    #: A unit is a (variant, unit id) pair: its segment is read from its own exposure events.
    segment_keys = ("variant_id", "unit_id")

    @classmethod
    def plan_relation(cls, experiment: Experiment, source: AnySource, terms: list[GoalKey]) -> Relation:
        """The events table with its configured column names (its date column as the timeline's day).

        :raises ExperimentError: attribution windows or CUPED, which need each event's time since
            its unit's first exposure, which attributed events do not carry.
        """
        assert isinstance(source, Source)
        items: list[Experiment | Metric | Check] = [experiment, *experiment.metrics, *experiment.checks]
        if any(item.conversion_delay_hours or item.conversion_window_hours for item in items):
            raise ExperimentError(
                "conversion_delay_hours and conversion_window_hours need the exposures-and-events "
                "layout (a source with exposures and events): attributed events carry no time since "
                "exposure"
            )
        if experiment.cuped_metrics():
            raise ExperimentError(
                "cuped_lookback_days needs the exposures-and-events layout (a source with exposures "
                "and events): attributed events carry no first exposure to look back from"
            )
        c = source.columns
        return Relation(
            source.table_parts,
            exp_variant_id=c.exp_variant_id,
            unit_id=c.unit_id,
            goal=c.goal,
            cnt=c.cnt,
            value=c.value,
            exp_id=c.exp_id,
            unit_type=c.unit_type,
            agg_type=c.agg_type,
            date=c.date,
            day=c.date if experiment.timeline is not None else None,
        )

    def ctes(self, dialect: Dialect) -> list[exp.CTE]:
        return []

    def segment_candidates(self, dialect: Dialect) -> list[exp.Expression]:
        """Each event's breakdown columns, its date and a 0/1 flag of exposure events (the
        experiment's exposure goal, as metrics count it)."""
        plan = self.plan
        exposure = plan.experiment.exposure_goal
        is_exposure = conjunction(goal_predicate(plan, exposure.unit_type, exposure.agg_type, exposure.goal))
        flag = exp.Case(ifs=[exp.If(this=is_exposure, true=number(1))], default=number(0))
        projections: list[exp.Expression] = [
            alias(event_column(segment.name), segment.column) for segment in plan.segments
        ]
        if plan.relation.date is not None:
            projections.append(alias(event_column(plan.relation.date), SEGMENT_DATE))
        projections.append(alias(flag, EXPOSURE_FLAG))
        return projections

    def unit_segments(self, dialect: Dialect, scanned: str) -> exp.Select:
        """Per (variant, unit): the breakdown columns of its earliest exposure event in ``scanned``."""
        plan = self.plan
        keys = list(self.segment_keys)
        order: list[exp.Expression] = [column(SEGMENT_DATE)] if plan.relation.date is not None else []
        attributes: list[exp.Expression] = [column(segment.column) for segment in plan.segments]
        inner, names = first_of(plan, keys, attributes, order, scanned)
        inner.where(exp.EQ(this=column(EXPOSURE_FLAG), expression=number(1)), copy=False)
        return ranked_first(inner, keys, names)
