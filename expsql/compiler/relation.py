"""Source layouts, as the SQL builders see them: the relation the scan reads and the CTEs before it.

The builders (:mod:`.goal_rows`, :mod:`.metric_rows`, :mod:`.unit_rows`) read one relation of
attributed events through :class:`Relation`'s column names. Each layout decides what that
relation is:

- :class:`AttributedLayout`: the user's events table itself (the seed layout); no CTE before the
  scan, whose WHERE picks the experiment and the date window.
- :class:`ExposuresLayout`: the ``attributed_events`` CTE that :mod:`.attribution` builds from an
  exposure log and a raw events table; the experiment, the window and the attribution rules are
  applied there, so the relation has no ``exp_id``, ``unit_type``, ``agg_type`` or ``date``.

A layout is chosen once, by :func:`plan_layout`, when the plan is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from expsql.errors import ExperimentError
from expsql.grammar.ast import goals
from expsql.models import AttributionWindow, Check, Experiment, Metric
from expsql.source import AnySource, ExposuresSource, Source

if TYPE_CHECKING:
    from sqlglot import exp

    from expsql.compiler.plan import Plan
    from expsql.dialects.base import Dialect
    from expsql.grammar.ast import GoalKey

#: The name of the exposures layout's relation of attributed events.
ATTRIBUTED_EVENTS = "attributed_events"
#: The goal whose events are the exposures (the plan's first term).
EXPOSURE = "exposure"
#: The exposures layout's column of each event's day, with a timeline.
DAY = "day"
#: The exposures layout's flag of the rows of units excluded for multiple exposures.
EXCLUDED = "excluded"


@dataclass(frozen=True)
class Relation:
    """The table the scan reads and its column names; ``None``: the relation has no such column
    (it holds one experiment, one unit type, or no dates), so nothing tests it."""

    table_parts: tuple[str, ...]
    exp_variant_id: str
    unit_id: str
    goal: str
    cnt: str
    value: str
    exp_id: str | None = None
    unit_type: str | None = None
    agg_type: str | None = None
    date: str | None = None
    #: When each event happened and when its unit was first exposed (exposures layout, for the
    #: attribution windows of single metrics).
    event_timestamp: str | None = None
    first_exposure: str | None = None
    #: The attribution window the relation already applied to every event it holds.
    applied_window: AttributionWindow | None = None
    #: 1 on the events of the unit's pre-exposure period (CUPED covariates), 0 on the others.
    pre_period: str | None = None
    #: The day of each event (``timeline: daily``, :mod:`.timeline`): the date column of the
    #: attributed layout, the day of the event's timestamp in the exposures layout.
    day: str | None = None
    #: 1 on the rows of units excluded for being exposed to several variants, 0 on the others
    #: (exposures layout): the builders group by it beside the variant and show such a unit's
    #: variant as ``@multiple:<variant>`` in the rows (:func:`~expsql.compiler.scan.shown_variant`).
    excluded: str | None = None
    #: Every row of the exposure goal has ``cnt`` 1 (exposures layout: one row per exposure), so a
    #: unit's count of the exposure term is its number of exposure events.
    exposure_cnt_one: bool = False


class Layout(Protocol):
    """What a source layout gives the builders."""

    @property
    def relation(self) -> Relation:
        """The relation the scan reads."""
        ...

    def ctes(self, plan: Plan, dialect: Dialect) -> list[exp.CTE]:
        """The CTEs that define the relation, before the scan (none for a table)."""
        ...

    def evaluated_units(self, variant: exp.Column, dialect: Dialect) -> exp.Expression | None:
        """Which per-unit rows are units of the experiment's variants, given their ``variant``
        column (``None``: all are), e.g. for the pool of winsorization's percentiles."""
        ...

    @property
    def segment_keys(self) -> tuple[str, ...]:
        """The scan's columns that identify a unit for its breakdown segment (:mod:`.segments`)."""
        ...

    def segment_candidates(self, plan: Plan, dialect: Dialect) -> list[exp.Expression]:
        """What the scan adds so that :meth:`unit_segments` can read it (nothing: read elsewhere)."""
        ...

    def unit_segments(self, plan: Plan, dialect: Dialect, scanned: str) -> exp.Select:
        """One row per unit (:attr:`segment_keys`): its breakdown attributes, as segment columns."""
        ...


@dataclass(frozen=True)
class AttributedLayout:
    """The seed layout: the scan reads the configured events table."""

    relation: Relation

    @classmethod
    def of(cls, source: Source, *, timeline: bool = False) -> AttributedLayout:
        c = source.columns
        relation = Relation(
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
            day=c.date if timeline else None,
        )
        return cls(relation)

    def ctes(self, plan: Plan, dialect: Dialect) -> list[exp.CTE]:
        return []

    def evaluated_units(self, variant: exp.Column, dialect: Dialect) -> exp.Expression | None:
        return None

    @property
    def segment_keys(self) -> tuple[str, ...]:
        """A unit is a (variant, unit id) pair: its segment is read from its own exposure events."""
        return ("variant_id", "unit_id")

    def segment_candidates(self, plan: Plan, dialect: Dialect) -> list[exp.Expression]:
        from expsql.compiler.segments import attributed_candidates

        return attributed_candidates(plan, dialect)

    def unit_segments(self, plan: Plan, dialect: Dialect, scanned: str) -> exp.Select:
        from expsql.compiler.segments import attributed_unit_segments

        return attributed_unit_segments(plan, scanned)


@dataclass(frozen=True)
class ExposuresLayout:
    """The exposures-and-events layout: the scan reads ``attributed_events``.

    :param window: the window the events branch applies: the loosest of all metrics' windows
        (their own are tested per goal term when they differ, ``windowed``).
    :param event_goals: the goals read from the events table (never ``exposure``).
    :param event_dimensions: dimension columns read from the events table.
    :param exposure_dimensions: dimension columns read from the exposure log.
    """

    source: ExposuresSource
    relation: Relation
    window: AttributionWindow
    windowed: bool
    event_goals: tuple[str, ...]
    event_dimensions: tuple[str, ...]
    exposure_dimensions: tuple[str, ...]
    #: CUPED: the events in ``[t0 - lookback, t0)`` are read too, flagged ``pre_period``.
    lookback_seconds: int | None = None
    #: Breakdown dimensions read from the exposure log beside ``exposure_dimensions``.
    segment_dimensions: tuple[str, ...] = ()

    def ctes(self, plan: Plan, dialect: Dialect) -> list[exp.CTE]:
        from expsql.compiler.attribution import attribution_ctes

        return attribution_ctes(plan, self, dialect)

    def evaluated_units(self, variant: exp.Column, dialect: Dialect) -> exp.Expression | None:
        from expsql.compiler.attribution import not_excluded

        return not_excluded(self.relation)

    @property
    def segment_keys(self) -> tuple[str, ...]:
        """A unit's segment is its first exposure's, whatever variant(s) its rows carry."""
        return ("unit_id",)

    def segment_candidates(self, plan: Plan, dialect: Dialect) -> list[exp.Expression]:
        return []

    def unit_segments(self, plan: Plan, dialect: Dialect, scanned: str) -> exp.Select:
        from expsql.compiler.attribution import EXPERIMENT_EXPOSURES, EXPOSURE_TIMESTAMP
        from expsql.compiler.segments import exposures_unit_segments

        return exposures_unit_segments(plan, EXPERIMENT_EXPOSURES, EXPOSURE_TIMESTAMP)


def plan_layout(experiment: Experiment, source: AnySource, terms: list[GoalKey]) -> Layout:
    """The layout of ``source`` for ``experiment`` whose goal terms are ``terms``.

    :raises ExperimentError: attribution windows on the attributed layout (its events carry no
        timestamps to measure them by); in the exposures layout, a goal of another unit type
        than the exposure log's.
    """
    if isinstance(source, Source):
        _refuse_windows(experiment)
        if experiment.cuped_metrics():
            raise ExperimentError(
                "cuped_lookback_days needs the exposures-and-events layout (a source with exposures "
                "and events): attributed events carry no first exposure to look back from"
            )
        return AttributedLayout.of(source, timeline=experiment.timeline is not None)
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
    event_goals = tuple(dict.fromkeys(key.goal for key in terms if key.goal != EXPOSURE))
    trigger_goals = tuple(f.goal for f in experiment.filters if f.scope == "trigger" and f.goal != EXPOSURE)
    event_dimensions: dict[str, None] = {}
    exposure_dimensions: dict[str, None] = {}
    for key in terms:
        for dimension in key.dimensions:
            (exposure_dimensions if key.goal == EXPOSURE else event_dimensions).setdefault(dimension.name)
    for item in experiment.filters:
        if item.dimension is not None:
            wanted = exposure_dimensions if item.scope == "exposure" else event_dimensions
            wanted.setdefault(item.dimension)
    window = _loosest(windows) if windows else experiment.attribution_window()
    lookback = experiment.cuped_lookback_days if experiment.cuped_metrics() else None
    relation = Relation(
        (ATTRIBUTED_EVENTS,),
        exp_variant_id="variant_id",
        unit_id="unit_id",
        goal="goal",
        cnt="cnt",
        value="value",
        event_timestamp="event_timestamp" if windowed else None,
        first_exposure="first_exposure" if windowed else None,
        applied_window=window,
        pre_period="pre_period" if lookback else None,
        day=DAY if experiment.timeline is not None else None,
        excluded=EXCLUDED if experiment.multiple_exposures == "exclude" else None,
        exposure_cnt_one=True,
    )
    return ExposuresLayout(
        source,
        relation,
        window=window,
        windowed=windowed,
        event_goals=tuple(dict.fromkeys((*event_goals, *(g for g in trigger_goals if g)))),
        event_dimensions=tuple(event_dimensions),
        exposure_dimensions=tuple(exposure_dimensions),
        lookback_seconds=round(lookback * 86_400) if lookback else None,
        segment_dimensions=tuple(d for d in experiment.breakdown if d not in exposure_dimensions),
    )


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


def _refuse_windows(experiment: Experiment) -> None:
    items: list[Experiment | Metric | Check] = [experiment, *experiment.metrics, *experiment.checks]
    if any(item.conversion_delay_hours or item.conversion_window_hours for item in items):
        raise ExperimentError(
            "conversion_delay_hours and conversion_window_hours need the exposures-and-events layout "
            "(a source with exposures and events): attributed events carry no time since exposure"
        )
